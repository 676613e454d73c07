/**
 * Search recall on the labelled query set (`test/fixtures/search-queries.json`) over the
 * real catalogs of seven reference MCP servers (`test/fixtures/catalogs/`), for
 * `ToolSearchIndex` and, for comparison, the original's method. Run directly to print:
 *
 *   npx tsx bench/search-recall.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolSearchIndex, type CatalogEntry } from '../src/upstream/tool-search.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

/** Catalog order for the original's method: the servers as issue 3 lists them. */
const SERVER_ORDER = [
  'everything',
  'filesystem',
  'memory',
  'github',
  'slack',
  'postgres',
  'sequential-thinking',
];

export interface LabelledQuery {
  query: string;
  /** Acceptable answers as `server/tool`. */
  expected: string[];
  /** Fixed before tuning and never tuned on. */
  heldOut?: boolean;
}

export interface SearchMiss {
  query: string;
  heldOut: boolean;
  expected: string[];
  /** 1-based rank of the first acceptable answer, or null when not in the top 5. */
  rank: number | null;
  top5: string[];
}

export interface RecallFigures {
  /** Tuned part: the right tool first / in the top 5, as fractions. */
  recallAt1: number;
  recallAt5: number;
  /** Held-out part. */
  heldOutRecallAt1: number;
  heldOutRecallAt5: number;
}

export interface SearchRecall extends RecallFigures {
  queries: number;
  heldOutQueries: number;
  misses: SearchMiss[];
  /** The original's method on the same set: all query words as substrings, catalog order. */
  original: RecallFigures & { misses: number };
}

/** The seven captured catalogs, in `SERVER_ORDER`. */
export function loadCatalogs(): CatalogEntry[] {
  const dir = join(FIXTURES, 'catalogs');
  const entries = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => {
      const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        server: string;
        tools: Tool[];
      };
      return { server: fixture.server, tools: fixture.tools };
    });
  const position = (server: string): number => {
    const index = SERVER_ORDER.indexOf(server);
    return index === -1 ? SERVER_ORDER.length : index;
  };
  return entries.sort((a, b) => position(a.server) - position(b.server));
}

export function loadQueries(): LabelledQuery[] {
  const file = join(FIXTURES, 'search-queries.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { queries: LabelledQuery[] }).queries;
}

/** The original's `search_tool_docs`: every query word a substring, in catalog order. */
export function originalSearch(catalog: readonly CatalogEntry[], query: string): string[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const hits: string[] = [];
  for (const { server, tools } of catalog) {
    for (const tool of tools) {
      const haystack = `${server} ${tool.name} ${tool.description ?? ''}`.toLowerCase();
      if (words.every((word) => haystack.includes(word))) hits.push(`${server}/${tool.name}`);
    }
  }
  return hits;
}

function rankOf(results: readonly string[], expected: readonly string[]): number | null {
  const index = results.slice(0, 5).findIndex((id) => expected.includes(id));
  return index === -1 ? null : index + 1;
}

function recall(ranks: readonly { rank: number | null; heldOut: boolean }[]): RecallFigures {
  const share = (heldOut: boolean, top: number): number => {
    const part = ranks.filter((r) => r.heldOut === heldOut);
    const hits = part.filter((r) => r.rank !== null && r.rank <= top).length;
    return part.length === 0 ? 0 : Math.round((hits / part.length) * 1000) / 1000;
  };
  return {
    recallAt1: share(false, 1),
    recallAt5: share(false, 5),
    heldOutRecallAt1: share(true, 1),
    heldOutRecallAt5: share(true, 5),
  };
}

export function measureSearchRecall(
  catalog: readonly CatalogEntry[] = loadCatalogs(),
  queries: readonly LabelledQuery[] = loadQueries(),
): SearchRecall {
  const index = new ToolSearchIndex(catalog);
  const misses: SearchMiss[] = [];
  const ours = queries.map(({ query, expected, heldOut = false }) => {
    const top5 = index
      .search(query, { limit: 5 })
      .map((result) => `${result.server}/${result.tool}`);
    const rank = rankOf(top5, expected);
    if (rank !== 1) misses.push({ query, heldOut, expected, rank, top5 });
    return { rank, heldOut };
  });
  const original = queries.map(({ query, expected, heldOut = false }) => ({
    rank: rankOf(originalSearch(catalog, query), expected),
    heldOut,
  }));
  return {
    queries: queries.length,
    heldOutQueries: queries.filter((q) => q.heldOut === true).length,
    ...recall(ours),
    misses,
    original: { ...recall(original), misses: original.filter((r) => r.rank !== 1).length },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = measureSearchRecall();
  const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;
  const row = (name: string, f: RecallFigures): string =>
    `${name.padEnd(10)} tuned @1 ${pct(f.recallAt1)}  @5 ${pct(f.recallAt5)}   ` +
    `held-out @1 ${pct(f.heldOutRecallAt1)}  @5 ${pct(f.heldOutRecallAt5)}`;
  console.log(
    `${figures.queries} queries (${figures.queries - figures.heldOutQueries} tuned, ` +
      `${figures.heldOutQueries} held out) over ${loadCatalogs().reduce((n, c) => n + c.tools.length, 0)} tools`,
  );
  const all = (f: RecallFigures, at: 1 | 5): string => {
    const tuned = at === 1 ? f.recallAt1 : f.recallAt5;
    const heldOut = at === 1 ? f.heldOutRecallAt1 : f.heldOutRecallAt5;
    const held = figures.heldOutQueries;
    return pct((tuned * (figures.queries - held) + heldOut * held) / figures.queries);
  };
  console.log(`${row('ours', figures)}   all @1 ${all(figures, 1)}  @5 ${all(figures, 5)}`);
  console.log(
    `${row('original', figures.original)}   all @1 ${all(figures.original, 1)}  @5 ${all(figures.original, 5)}`,
  );
  for (const miss of figures.misses) {
    const where = miss.rank === null ? 'not in top 5' : `rank ${miss.rank}`;
    console.log(
      `  miss${miss.heldOut ? ' (held out)' : ''}: "${miss.query}" → ${where}; ` +
        `want ${miss.expected.join(' | ')}; got ${miss.top5.join(', ')}`,
    );
  }
}
