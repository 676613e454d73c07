import {
  DEFAULT_SEARCH_WEIGHTS,
  indexCatalog,
  type CatalogEntry,
  type IndexedTool,
  type SearchWeights,
} from './search-documents.js';
import { queryTerms } from './search-terms.js';
import { Vocabulary, type WordMatch } from './search-vocabulary.js';
import { toolDoc, type DocDetail, type ToolDoc } from './tool-docs.js';

export { DEFAULT_SEARCH_WEIGHTS, type CatalogEntry, type SearchWeights };

export interface SearchOptions {
  /** Clamped to 1..20; default 5 (docs/servers.md). */
  limit?: number;
  detail?: DocDetail;
  /** Whether a server is loaded in this call; every result says so. */
  loaded?: (server: string) => boolean;
}

/** A ranked hit: `score` in (0, 1], higher is better. */
export type SearchResult = ToolDoc & { score: number; loaded: boolean };

export const DEFAULT_SEARCH_LIMIT = 5;
export const MAX_SEARCH_LIMIT = 20;

/** The search limit clamps to 1..20, never refused; a missing or non-finite one is the default. */
export function clampSearchLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.trunc(limit)));
}

/**
 * Ranks the tools of every configured server for a natural-language query. Each query
 * word (stemmed, abbreviations spelt out, typos guessed, synonyms at a lower weight) is
 * looked up in each tool's tool name, server name, aliases, descriptions and parameters;
 * its best match counts by field and by how rare the word is in the catalog. Tools whose
 * name the query covers, and in the same order, rank higher.
 */
export class ToolSearchIndex {
  readonly #tools: readonly IndexedTool[];
  readonly #vocabulary: Vocabulary;
  readonly #weights: Readonly<SearchWeights>;

  constructor(catalog: readonly CatalogEntry[], weights: Partial<SearchWeights> = {}) {
    this.#weights = { ...DEFAULT_SEARCH_WEIGHTS, ...weights };
    const { tools, idf } = indexCatalog(catalog, this.#weights);
    this.#tools = tools;
    this.#vocabulary = new Vocabulary(idf);
  }

  get size(): number {
    return this.#tools.length;
  }

  search(query: string, options: SearchOptions = {}): SearchResult[] {
    const limit = clampSearchLimit(options.limit);
    const detail = options.detail ?? 'summary';
    const isLoaded = options.loaded ?? (() => false);
    const matches = queryTerms(query).map(({ term, alternatives, exact }) => {
      const direct = this.#vocabulary.match(term, 1, exact);
      // A synonym never says more than the word typed: cap its rarity at the word's own.
      const cap = Math.max(0, ...direct.map((m) => m.idf)) || Infinity;
      const alternate = alternatives.flatMap((word) =>
        this.#vocabulary
          .match(word, this.#weights.synonym)
          .map((m) => ({ ...m, idf: Math.min(m.idf, cap) })),
      );
      return [...direct, ...alternate];
    });
    const total = matches.reduce(
      (sum, list) => sum + Math.max(0, ...list.map((m) => m.similarity * m.idf)),
      0,
    );
    if (total === 0) return [];
    const best = 1 + this.#weights.namePhrase * Math.max(0, matches.length - 1);
    return this.#tools
      .map((entry, order) => ({
        entry,
        order,
        score: rank(entry, matches, total, this.#weights) / best,
        loaded: isLoaded(entry.server),
      }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score || Number(b.loaded) - Number(a.loaded) || a.order - b.order)
      .slice(0, limit)
      .map(({ entry, score, loaded }) => ({
        ...toolDoc(entry, entry.tool, detail),
        score: Math.max(0.001, Math.round(score * 1000) / 1000),
        loaded,
      }));
  }
}

/**
 * Score of one tool: per query word, its best match in the tool, as a share of `total` (the
 * best any tool could get); then name coverage and phrase bonus.
 */
function rank(
  entry: IndexedTool,
  matches: readonly WordMatch[][],
  total: number,
  weights: Readonly<SearchWeights>,
): number {
  let sum = 0;
  const found: (string | undefined)[] = [];
  for (const list of matches) {
    let best = 0;
    let bestWord: string | undefined;
    for (const { word, similarity, idf } of list) {
      const value = similarity * (entry.words.get(word) ?? 0) * idf;
      if (value > best) [best, bestWord] = [value, word];
    }
    sum += best;
    found.push(bestWord);
  }
  if (sum === 0 || entry.name.length === 0) return sum / total;
  const covered = entry.name.filter((word) => found.includes(word)).length / entry.name.length;
  let phrases = 0;
  for (let i = 0; i + 1 < found.length; i += 1) {
    const at = entry.name.indexOf(found[i] ?? '');
    if (at !== -1 && entry.name[at + 1] === found[i + 1]) phrases += 1;
  }
  const coverage = 1 - weights.nameCoverage + weights.nameCoverage * covered;
  return (sum / total) * coverage + phrases * weights.namePhrase;
}
