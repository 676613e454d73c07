import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { loadCatalogs, measureSearchRecall, originalSearch } from '../../../bench/search-recall.js';
import { editDistance, queryTerms, splitWords, stem } from '../../../src/upstream/search-terms.js';
import { queryToolDocs, serverToolDocs } from '../../../src/upstream/tool-docs.js';
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

describe('search terms', () => {
  it('splits identifiers and prose into lower-case words', () => {
    expect(splitWords('createIssue create_issue create-issue')).toEqual([
      'create',
      'issue',
      'create',
      'issue',
      'create',
      'issue',
    ]);
    expect(splitWords('HTTPServer v2 a 42')).toEqual(['http', 'server', 'v2']);
  });

  it('stems plural, -ing, -ed and -ly endings to one form', () => {
    for (const forms of [
      ['file', 'files'],
      ['list', 'listing', 'lists', 'listed'],
      ['create', 'creating', 'created', 'creates'],
      ['entity', 'entities'],
      ['run', 'running'],
      ['search', 'searches', 'searching'],
      ['recursive', 'recursively'],
    ]) {
      expect(new Set(forms.map(stem)).size, forms.join()).toBe(1);
    }
    expect(stem('status')).toBe('status');
  });

  it('drops filler words and spells out abbreviations', () => {
    expect(queryTerms('merge a PR').map((t) => t.term)).toEqual(['merg', 'pull', 'request']);
    expect(queryTerms('send a msg').map((t) => t.term)).toEqual(['send', 'messag']);
    expect(queryTerms('remove it')[0]?.alternatives).toContain('delet');
  });

  it('measures edit distance with swaps, giving up past the limit', () => {
    expect(editDistance('read', 'read', 2)).toBe(0);
    expect(editDistance('raed', 'read', 2)).toBe(1);
    expect(editDistance('delt', 'delet', 2)).toBe(1);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('tool docs', () => {
  const entry = { server: 'My Server', tools: [tool('import', 'Imports'), tool('get-x')] };

  it('builds summary and full docs with aliases', () => {
    expect(serverToolDocs(entry, 'summary')).toEqual([
      {
        server: 'My Server',
        serverAlias: 'my_server',
        tool: 'import',
        toolAlias: 'import_',
        description: 'Imports',
      },
      { server: 'My Server', serverAlias: 'my_server', tool: 'get-x', toolAlias: 'get_x' },
    ]);
    expect(serverToolDocs(entry, 'full')[1]?.inputSchema).toEqual({
      type: 'object',
      properties: {},
    });
  });

  it('answers query_tool_docs for all tools, one by name or alias, or none', () => {
    expect(queryToolDocs(entry)).toHaveLength(2);
    expect(queryToolDocs(entry, { tool: 'get-x' }).map((d) => d.tool)).toEqual(['get-x']);
    expect(queryToolDocs(entry, { tool: 'get_x' }).map((d) => d.tool)).toEqual(['get-x']);
    expect(queryToolDocs(entry, { tool: 'nope' })).toEqual([]);
    expect(queryToolDocs(entry, { serverAlias: 'my_server_2' })[0]?.serverAlias).toBe(
      'my_server_2',
    );
    expect(queryToolDocs(entry, { tool: 'import', detail: 'full' })[0]).toHaveProperty(
      'inputSchema',
    );
  });
});
