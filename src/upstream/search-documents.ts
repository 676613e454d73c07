import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { serverAliases, toolAliases } from './aliases.js';
import { contentTerms, splitWords } from './search-terms.js';

/** One configured server as the search sees it: its cached or live tool list. */
export interface CatalogEntry {
  server: string;
  /** Defaults to the alias computed over this catalog's server names. */
  serverAlias?: string;
  serverDescription?: string | undefined;
  tools: readonly Tool[];
}

/** The ranking's knobs; the defaults were chosen on the tuned part of the labelled set. */
export interface SearchWeights {
  /** How much a word found in each field says about the tool. */
  name: number;
  server: number;
  description: number;
  serverDescription: number;
  params: number;
  /** A synonym's match, relative to the word typed. */
  synonym: number;
  /** BM25's `k1` and `b` for prose: repeated words count more, long prose dilutes each. */
  repeatSaturation: number;
  lengthDilution: number;
  /** Share of the score that depends on how much of the tool's name the query covers. */
  nameCoverage: number;
  /** Added per pair of neighbouring query words that are neighbours in the tool name. */
  namePhrase: number;
}

export const DEFAULT_SEARCH_WEIGHTS: Readonly<SearchWeights> = {
  name: 1,
  server: 0.7,
  description: 0.6,
  serverDescription: 0.35,
  params: 0.3,
  synonym: 0.7,
  repeatSaturation: 1.2,
  lengthDilution: 0.5,
  nameCoverage: 0.15,
  namePhrase: 0.08,
};

export interface IndexedTool {
  server: string;
  serverAlias: string;
  toolAlias: string;
  tool: Tool;
  /** word → weight of the best field it occurs in. */
  words: Map<string, number>;
  /** The tool name's words in order, without the server's. */
  name: string[];
}

/** The catalog's tools as weighted words, and each word's rarity (inverse document frequency). */
export function indexCatalog(
  catalog: readonly CatalogEntry[],
  w: Readonly<SearchWeights>,
): { tools: IndexedTool[]; idf: Map<string, number> } {
  const tools: IndexedTool[] = [];
  const servers = serverAliases(catalog.map((entry) => entry.server));
  const prose = new Map(catalog.flatMap((entry) => entry.tools.map((t) => [t, proseOf(t)])));
  const lengths = [...prose.values()].map((p) => p.description.length + p.params.length);
  const averageLength = Math.max(1, lengths.reduce((a, b) => a + b, 0) / (lengths.length || 1));
  const knownWords = new Set(
    catalog.flatMap((entry) => entry.tools.flatMap((t) => splitWords(t.description ?? ''))),
  );
  for (const entry of catalog) {
    const serverAlias = entry.serverAlias ?? servers.get(entry.server) ?? '_';
    const aliases = toolAliases(entry.tools.map((tool) => tool.name));
    const serverWords = contentTerms(`${entry.server} ${serverAlias}`, true);
    const serverProse = contentTerms(entry.serverDescription ?? '');
    for (const tool of entry.tools) {
      const words = new Map<string, number>();
      const add = (terms: readonly string[], weight: number): void => {
        for (const term of terms) words.set(term, Math.max(words.get(term) ?? 0, weight));
      };
      const name = contentTerms(decompound(tool.name, knownWords).join(' '), true);
      const toolAlias = aliases.get(tool.name) ?? '_';
      const { description, params } = prose.get(tool) ?? proseOf(tool);
      const length = description.length + params.length;
      const dilution = 1 - w.lengthDilution + (w.lengthDilution * length) / averageLength;
      add(name, w.name);
      add(contentTerms(toolAlias, true), w.name);
      add(serverWords, w.server);
      addProse(words, description, w.description, w.repeatSaturation, dilution);
      addProse(words, params, w.params, w.repeatSaturation, dilution);
      add(serverProse, w.serverDescription);
      const core = name.filter((word) => !serverWords.includes(word));
      tools.push({ server: entry.server, serverAlias, toolAlias, tool, words, name: core });
    }
  }
  const documentFrequency = new Map<string, number>();
  for (const { words } of tools) {
    for (const word of words.keys()) {
      documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
    }
  }
  const idf = new Map<string, number>();
  for (const [word, count] of documentFrequency) {
    idf.set(word, Math.log(1 + tools.length / count));
  }
  return { tools, idf };
}

/** Prose words weighted BM25-style: by field, repetitions, and the prose's length. */
function addProse(
  words: Map<string, number>,
  terms: readonly string[],
  weight: number,
  k: number,
  dilution: number,
): void {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  for (const [term, count] of counts) {
    const value = weight * Math.min(1, (count * (k + 1)) / (count + k * dilution));
    words.set(term, Math.max(words.get(term) ?? 0, value));
  }
}

/** The words of the tool's description and of its parameters. */
function proseOf(tool: Tool): { description: string[]; params: string[] } {
  return {
    description: contentTerms(tool.description ?? ''),
    params: contentTerms(parameterText(tool)),
  };
}

/** Top-level parameters: names, descriptions and enum values. */
function parameterText(tool: Tool): string {
  const properties = tool.inputSchema.properties ?? {};
  const parts: string[] = [];
  for (const [name, schema] of Object.entries(properties)) {
    parts.push(splitWords(name).join(' '));
    if (typeof schema !== 'object' || schema === null) continue;
    const { description, enum: values } = schema as { description?: unknown; enum?: unknown };
    if (typeof description === 'string') parts.push(description);
    if (Array.isArray(values)) parts.push(values.filter((v) => typeof v === 'string').join(' '));
  }
  return parts.join(' ');
}

/** A tool name's words, a run-together one split in two known words ("sequentialthinking"). */
function decompound(name: string, knownWords: ReadonlySet<string>): string[] {
  return splitWords(name).flatMap((word) => {
    for (let i = 4; word.length >= 8 && i <= word.length - 4; i += 1) {
      const [head, tail] = [word.slice(0, i), word.slice(i)];
      if (knownWords.has(head) && knownWords.has(tail)) return [word, head, tail];
    }
    return [word];
  });
}
