import Fuse from 'fuse.js';
import { editDistance } from '../util/closest.js';

/** Longer unknown words are not guessed at (bitap works on up to 32 letters at a time). */
const MAX_GUESSED_LENGTH = 32;

/** A catalog word that a query word may stand for. */
export interface WordMatch {
  word: string;
  /** How closely it matches, 0..1 (1: the same word). */
  similarity: number;
  /** How rare it is in the catalog (inverse document frequency). */
  idf: number;
}

/**
 * The stemmed words of a catalog with their rarity. Finds, for a query word, the catalog
 * words it may mean: itself when known; otherwise a longer form ("demo" → "demonstrat")
 * or a typo ("serach"), with fuse.js proposing the candidates and an edit distance
 * grading them.
 */
export class Vocabulary {
  readonly #idf: ReadonlyMap<string, number>;
  readonly #fuse: Fuse<string>;

  constructor(idf: ReadonlyMap<string, number>) {
    this.#idf = idf;
    this.#fuse = new Fuse([...idf.keys()], {
      includeScore: true,
      threshold: 0.4,
      location: 0,
      distance: 3,
      minMatchCharLength: 2,
    });
  }

  /**
   * Catalog words for `term`, similarities scaled by `weight` (lower for synonyms); with
   * `exact`, only the word itself.
   */
  match(term: string, weight: number, exact = false): WordMatch[] {
    const known = this.#idf.get(term);
    // Stemming already joins the forms of a known word; only an unknown one is guessed at.
    if (known !== undefined) return [{ word: term, similarity: weight, idf: known }];
    if (exact || term.length < 3 || term.length > MAX_GUESSED_LENGTH) return [];
    const candidates = this.#fuse.search(term).map((result) => result.item);
    // Bitap counts a swap of neighbours as two errors: try each swap directly.
    for (let i = 0; i + 1 < term.length; i += 1) {
      const swapped = term.slice(0, i) + term.charAt(i + 1) + term.charAt(i) + term.slice(i + 2);
      if (this.#idf.has(swapped)) candidates.push(swapped);
    }
    const found = new Map<string, number>();
    for (const word of candidates) {
      const similarity = guessSimilarity(term, word) * weight;
      if (similarity > (found.get(word) ?? 0)) found.set(word, similarity);
    }
    return [...found].map(([word, similarity]) => ({
      word,
      similarity,
      idf: this.#idf.get(word) ?? 0,
    }));
  }
}

/**
 * How well a catalog word stands for an unknown query word: a longer form of it, or a
 * typo (one edit, or two in a long word; one changed letter in a short word is too likely
 * another word).
 */
function guessSimilarity(term: string, word: string): number {
  if (word.startsWith(term)) return 0.55 + (0.35 * term.length) / word.length;
  if (term.length < 4) return 0;
  const distance = editDistance(term, word, 2);
  if (distance === 1) {
    const substitution = term.length === word.length && !isSwap(term, word);
    return substitution && term.length <= 4 ? 0 : 0.8;
  }
  return distance === 2 && term.length >= 7 ? 0.6 : 0;
}

function isSwap(a: string, b: string): boolean {
  const i = [...a].findIndex((char, index) => char !== b[index]);
  return i >= 0 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}
