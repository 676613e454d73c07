/**
 * The tokens of a saved tool's def line, read as Python's tokenizer reads them, for the
 * few kinds a def line may hold (python-def-line.ts says why so few). A token of any other
 * kind comes back as `other`, for the grammar to refuse in its own terms; a name or number
 * that Python would read longer, or a string that is not plain, is refused here.
 */

export class DefLineRefused extends Error {}

export type Token =
  | { kind: 'name' | 'number' | 'op' | 'other'; text: string }
  | { kind: 'string'; bytes: boolean }
  | { kind: 'newline' }
  | { kind: 'end' };

/** Python's operators, longest first (longest match decides, as in Python's tokenizer). */
const OPERATORS = [
  '**=', '//=', '>>=', '<<=', '...', '!=', '%=', '&=', '**', '*=', '+=', '-=', '->', '//',
  '/=', ':=', '<<', '<=', '==', '>=', '>>', '@=', '^=', '|=', '!', '%', '&', '(', ')', '*',
  '+', ',', '-', '.', '/', ':', ';', '<', '=', '>', '@', '[', ']', '^', '{', '|', '}', '~',
]; // prettier-ignore
/** The operators a def line may hold; every other one ends the reading. */
const HEADER_OPERATORS = new Set('( ) , : = * ** / -> - + . ...'.split(' '));

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER =
  /(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?[jJ]?)/y;
/** After a name or a number: characters that would make Python read a longer token. */
const NAME_CONTINUES = /[A-Za-z0-9_\u0080-\uffff]/;
const NUMBER_CONTINUES = /[A-Za-z0-9_.\u0080-\uffff]/;
const PLAIN_STRING_PREFIXES = new Set(['', 'r', 'u', 'b', 'br', 'rb']);

/** Reads tokens from the start of a source; `depth` is the grammar's bracket depth. */
export class DefLineTokens {
  readonly #source: string;
  #pos = 0;
  /** Bracket depth: inside brackets a newline joins lines, as in Python. */
  depth = 0;

  constructor(source: string) {
    this.#source = source;
  }

  /** Index just past the last token read. */
  get position(): number {
    return this.#pos;
  }

  next(): Token {
    const source = this.#source;
    for (;;) {
      const char = source[this.#pos];
      if (char === undefined) return { kind: 'end' };
      if (char === ' ' || char === '\t') {
        this.#pos += 1;
      } else if (char === '\\' && source[this.#pos + 1] === '\n') {
        this.#pos += 2;
      } else if (char === '#') {
        const newline = source.indexOf('\n', this.#pos);
        this.#pos = newline === -1 ? source.length : newline;
      } else if (char === '\n') {
        this.#pos += 1;
        if (this.depth === 0) return { kind: 'newline' };
      } else {
        break;
      }
    }
    const start = this.#pos;
    NAME.lastIndex = NUMBER.lastIndex = start;
    const name = NAME.exec(source);
    if (name) {
      this.#pos = NAME.lastIndex;
      const quote = source[this.#pos];
      if (quote === '"' || quote === "'") return this.#string(name[0].toLowerCase());
      this.#refuseContinuation(NAME_CONTINUES);
      return { kind: 'name', text: name[0] };
    }
    const number = NUMBER.exec(source);
    if (number) {
      this.#pos = NUMBER.lastIndex;
      this.#refuseContinuation(NUMBER_CONTINUES);
      return { kind: 'number', text: number[0] };
    }
    const quote = source[start];
    if (quote === '"' || quote === "'") return this.#string('');
    // Anything else ends the reading: the grammar accepts none of it, and says why in its
    // own terms (a default, an annotation...).
    const operator = OPERATORS.find((op) => source.startsWith(op, start));
    if (operator === undefined || !HEADER_OPERATORS.has(operator)) {
      return { kind: 'other', text: operator ?? source.slice(start, start + 1) };
    }
    this.#pos += operator.length;
    return { kind: 'op', text: operator };
  }

  #refuseContinuation(continues: RegExp): void {
    const next = this.#source[this.#pos];
    if (next !== undefined && continues.test(next)) {
      throw new DefLineRefused('the def line may only hold ASCII names, numbers and plain strings');
    }
  }

  /** A string literal whose prefix (lower case) was read; `#pos` is at its quote. */
  #string(prefix: string): Token {
    if (!PLAIN_STRING_PREFIXES.has(prefix)) {
      throw new DefLineRefused(
        'the def line may only hold plain string literals (no f-strings or t-strings)',
      );
    }
    const source = this.#source;
    const quote = source.slice(this.#pos, this.#pos + 3);
    const closing = quote === '"""' || quote === "'''" ? quote : (source[this.#pos] ?? '');
    let index = this.#pos + closing.length;
    for (;;) {
      const char = source[index];
      if (char === undefined || (char === '\n' && closing.length === 1)) {
        throw new DefLineRefused('a string in the def line is not terminated');
      }
      if (char === '\\') index += 2;
      else if (source.startsWith(closing, index)) break;
      else index += 1;
    }
    this.#pos = index + closing.length;
    return { kind: 'string', bytes: prefix.includes('b') };
  }
}
