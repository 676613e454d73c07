import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { loadCatalogs, measureSearchRecall, originalSearch } from '../../../bench/search-recall.js';
import {
  clampSearchLimit,
  ToolSearchIndex,
  type CatalogEntry,
} from '../../../src/upstream/tool-search.js';

const catalog = loadCatalogs();
const index = new ToolSearchIndex(catalog);
const ids = (query: string, limit = 5): string[] =>
  index.search(query, { limit }).map((result) => `${result.server}/${result.tool}`);

function tool(
  name: string,
  description?: string,
  properties: Tool['inputSchema']['properties'] = {},
): Tool {
  return {
    name,
    ...(description ? { description } : {}),
    inputSchema: { type: 'object', properties },
  };
}

describe('search recall on the labelled query set (issue 3 item 6)', () => {
  const figures = measureSearchRecall();
  const report = figures.misses.map((m) => `${m.query} → ${m.top5.join(', ')}`).join('\n');

  it('covers the seven real catalogs with at least 40 queries, part of them held out', () => {
    expect(catalog.map((entry) => entry.server)).toEqual([
      'everything',
      'filesystem',
      'memory',
      'github',
      'slack',
      'postgres',
      'sequential-thinking',
    ]);
    expect(figures.queries).toBeGreaterThanOrEqual(40);
    expect(figures.heldOutQueries).toBeGreaterThanOrEqual(20);
  });

  it('puts the right tool first for ≥ 80% and in the top 5 for ≥ 95% of tuned queries', () => {
    expect(figures.recallAt1, report).toBeGreaterThanOrEqual(0.8);
    expect(figures.recallAt5, report).toBeGreaterThanOrEqual(0.95);
  });

  it('meets the same targets on the held-out queries', () => {
    expect(figures.heldOutRecallAt1, report).toBeGreaterThanOrEqual(0.8);
    expect(figures.heldOutRecallAt5, report).toBeGreaterThanOrEqual(0.95);
  });

  it('does far better than the original substring method', () => {
    expect(figures.original.recallAt5).toBeLessThan(0.6);
    expect(figures.recallAt5 - figures.original.recallAt5).toBeGreaterThan(0.3);
  });
});

describe('ToolSearchIndex', () => {
  it('indexes every tool of every server', () => {
    expect(index.size).toBe(catalog.reduce((n, entry) => n + entry.tools.length, 0));
  });

  it('returns tool docs ranked by a score in (0, 1], best first', () => {
    const results = index.search('read a file');
    expect(results[0]).toMatchObject({ server: 'filesystem', serverAlias: 'filesystem' });
    for (const result of results) {
      expect(result.score).toBeGreaterThan(0);
      expect(result.score).toBeLessThanOrEqual(1);
      expect(Object.keys(result).sort()).toEqual(
        ['description', 'loaded', 'score', 'server', 'serverAlias', 'tool', 'toolAlias'].sort(),
      );
    }
    const scores = results.map((result) => result.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('gives the aliases the sandbox uses', () => {
    const [sum] = index.search('sum of two numbers', { limit: 1 });
    expect(sum).toMatchObject({ server: 'everything', tool: 'get-sum', toolAlias: 'get_sum' });
    const [thinking] = index.search('sequential thinking', { limit: 1 });
    expect(thinking?.serverAlias).toBe('sequential_thinking');
  });

  it('takes aliases computed over all configured servers when given', () => {
    const own = new ToolSearchIndex([{ server: 'fs', serverAlias: 'fs_2', tools: [tool('read')] }]);
    expect(own.search('read')[0]?.serverAlias).toBe('fs_2');
  });

  it('clamps the limit to 1..20, default 5', () => {
    expect(ids('get').length).toBe(5);
    expect(ids('get', 0).length).toBe(1);
    expect(ids('get', -3).length).toBe(1);
    expect(ids('get', 100).length).toBe(20);
    expect(ids('get', 7.9).length).toBe(7);
    expect(clampSearchLimit(undefined)).toBe(5);
    expect(clampSearchLimit(Number.NaN)).toBe(5);
    expect(clampSearchLimit(Infinity)).toBe(5);
    expect(clampSearchLimit(20)).toBe(20);
    expect(clampSearchLimit(21)).toBe(20);
  });

  it('adds inputSchema only at detail "full"', () => {
    const [summary] = index.search('echo', { limit: 1 });
    expect(summary?.tool).toBe('echo');
    expect(summary).not.toHaveProperty('inputSchema');
    const [full] = index.search('echo', { limit: 1, detail: 'full' });
    const echo = catalog[0]?.tools.find((t) => t.name === 'echo');
    expect(full?.inputSchema).toEqual(echo?.inputSchema);
  });

  it('says whether each result’s server is loaded in this call', () => {
    const results = index.search('create', { limit: 20, loaded: (server) => server === 'github' });
    expect(results.some((r) => r.server === 'github')).toBe(true);
    expect(results.some((r) => r.server !== 'github')).toBe(true);
    for (const r of results) expect(r.loaded).toBe(r.server === 'github');
    expect(index.search('create').every((r) => !r.loaded)).toBe(true);
  });

  it('ranks a loaded server first between equal scores', () => {
    const twins: CatalogEntry[] = [
      { server: 'a', tools: [tool('fetch_page', 'Fetch a web page')] },
      { server: 'b', tools: [tool('fetch_page', 'Fetch a web page')] },
    ];
    const twinIndex = new ToolSearchIndex(twins);
    expect(twinIndex.search('fetch page').map((r) => r.server)).toEqual(['a', 'b']);
    const loadedB = twinIndex.search('fetch page', { loaded: (server) => server === 'b' });
    expect(loadedB.map((r) => r.server)).toEqual(['b', 'a']);
  });

  it('answers an empty, blank or meaningless query with no results', () => {
    expect(index.search('')).toEqual([]);
    expect(index.search('   ')).toEqual([]);
    expect(index.search('?!')).toEqual([]);
    expect(index.search('the')).toEqual([]);
    expect(index.search('zzqx vbnm')).toEqual([]);
    expect(new ToolSearchIndex([]).search('read file')).toEqual([]);
  });

  it('survives a huge query', () => {
    const results = index.search(`read file ${'x'.repeat(100_000)} ${'word '.repeat(10_000)}`);
    expect(results[0]?.server).toBe('filesystem');
  });

  it('tolerates typos and word forms', () => {
    expect(ids('raed file')[0]).toMatch(/^filesystem\/read_(text_)?file$/);
    expect(ids('serach repositories')[0]).toBe('github/search_repositories');
    expect(ids('listing files in a folder')[0]).toMatch(/^filesystem\/list_directory/);
    expect(ids('merging pull requests')[0]).toBe('github/merge_pull_request');
    expect(ids('Create_Issue')[0]).toBe('github/create_issue');
    expect(ids('createIssue')[0]).toBe('github/create_issue');
  });

  it('finds tools by server description and parameter names', () => {
    const custom = new ToolSearchIndex([
      { server: 'wx', serverDescription: 'Weather forecasts', tools: [tool('get')] },
      { server: 'db', tools: [tool('run', 'Run it', { tableName: { type: 'string' } })] },
    ]);
    expect(custom.search('weather')[0]?.server).toBe('wx');
    expect(custom.search('table name')[0]?.server).toBe('db');
  });

  it('finds a tool whose name is only a filler word', () => {
    const filler = new ToolSearchIndex([{ server: 's', tools: [tool('do', 'Does it')] }]);
    expect(filler.search('do')[0]?.tool).toBe('do');
  });

  it('handles a tool without description', () => {
    const bare = new ToolSearchIndex([{ server: 's', tools: [tool('ping')] }]);
    expect(bare.search('ping')).toEqual([
      { server: 's', serverAlias: 's', tool: 'ping', toolAlias: 'ping', score: 1, loaded: false },
    ]);
  });
});

describe('the original method (bench comparison)', () => {
  it('needs every word as a substring and keeps catalog order', () => {
    expect(originalSearch(catalog, 'read file').slice(0, 2)).toEqual([
      'filesystem/read_file',
      'filesystem/read_text_file',
    ]);
    expect(originalSearch(catalog, 'raed file')).toEqual([]);
  });
});
