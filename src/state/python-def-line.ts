/**
 * Reads the `def` line of a saved tool's source (its header: from `def` to the `:` that
 * starts the body) without Python: the host cannot count on an interpreter (users on
 * macOS and Windows run Node only), and it must not trust the sandbox's own check.
 *
 * Only what the rule allows in a header is understood: ASCII names, numbers, plain
 * string literals (no f- or t-strings), comments, line joins, and the operators of a
 * parameter list. Anything else is refused rather than guessed at, so this reader can
 * only be stricter than Python, never read a header differently: where it accepts,
 * Python sees the same tokens, hence the same defaults and annotations, and the same `:`.
 */

import { DefLineRefused as Refused, DefLineTokens, type Token } from './python-tokens.js';

export interface DefLine {
  name: string;
  /** Index just past the `:` that ends the header. */
  end: number;
}

export type DefLineResult = { ok: true; line: DefLine } | { ok: false; problem: string };

/** Python's keywords (keyword.kwlist): never a parameter or an annotation name. */
export const PYTHON_KEYWORDS: ReadonlySet<string> = new Set(
  (
    'False None True and as assert async await break class continue def del elif else ' +
    'except finally for from global if import in is lambda nonlocal not or pass raise ' +
    'return try while with yield'
  ).split(' '),
);

const LITERAL_HELP = 'a number, string, bytes, True, False, None, ... or a tuple of these';
const ANNOTATION_HELP =
  "a name, a dotted name, None or a string: put others in quotes, e.g. 'list[int]'";
const MAX_LITERAL_DEPTH = 10;

/** Reads the header at the start of `source`; the problem in one sentence if it is not allowed. */
export function readDefLine(source: string): DefLineResult {
  try {
    return { ok: true, line: new HeaderReader(source).read() };
  } catch (error: unknown) {
    if (error instanceof Refused) return { ok: false, problem: error.message };
    throw error;
  }
}

class HeaderReader {
  readonly #tokens: DefLineTokens;

  constructor(source: string) {
    this.#tokens = new DefLineTokens(source);
  }

  read(): DefLine {
    let token = this.#next();
    if (isName(token, 'async')) token = this.#next();
    if (!isName(token, 'def')) throw new Refused('the source must start with `def` or `async def`');
    const name = this.#next();
    if (name.kind !== 'name' || PYTHON_KEYWORDS.has(name.text)) {
      throw new Refused('`def` must be followed by the function name');
    }
    const open = this.#next();
    if (isOther(open, '[')) throw new Refused('a saved tool cannot have type parameters');
    if (!isOp(open, '(')) throw new Refused(`expected '(' after def ${name.text}`);
    this.#tokens.depth = 1;
    this.#parameters();
    this.#tokens.depth = 0;
    let after = this.#next();
    if (isOp(after, '->')) {
      after = this.#annotation(() => 'the return annotation', [':']);
    }
    if (!isOp(after, ':')) throw new Refused("expected ':' at the end of the def line");
    return { name: name.text, end: this.#tokens.position };
  }

  #parameters(): void {
    let token = this.#next();
    while (!isOp(token, ')')) {
      if (isOp(token, '/') || isOp(token, '*')) {
        const star = isOp(token, '*');
        token = this.#next();
        if (star && token.kind === 'name') token = this.#parameter(token.text, false);
      } else if (isOp(token, '**')) {
        const name = this.#next();
        if (name.kind !== 'name') throw new Refused("expected a parameter name after '**'");
        token = this.#parameter(name.text, false);
      } else if (token.kind === 'name') {
        token = this.#parameter(token.text, true);
      } else {
        throw new Refused(`unexpected ${describe(token)} in the parameter list`);
      }
      if (isOp(token, ',')) token = this.#next();
      else if (!isOp(token, ')')) {
        throw new Refused(`unexpected ${describe(token)} in the parameter list`);
      }
    }
  }

  /** One parameter after its name; returns the token that follows it. */
  #parameter(name: string, mayHaveDefault: boolean): Token {
    if (PYTHON_KEYWORDS.has(name)) throw new Refused(`'${name}' cannot name a parameter`);
    let token = this.#next();
    if (isOp(token, ':')) {
      token = this.#annotation(() => `the annotation of '${name}'`, [',', ')', '=']);
    }
    if (isOp(token, '=') && mayHaveDefault) {
      const refuse = () =>
        new Refused(
          `the default value of '${name}' must be a literal (${LITERAL_HELP}): defaults are evaluated whenever the tool is loaded`,
        );
      token = this.#literal(this.#next(), 0, refuse);
      if (!isOp(token, ',') && !isOp(token, ')')) throw refuse();
    }
    return token;
  }

  /** An annotation (its first token not read yet); returns the token after it. */
  #annotation(what: () => string, followers: string[]): Token {
    const refuse = () => new Refused(`${what()} may only be ${ANNOTATION_HELP}`);
    let token = this.#next();
    if (token.kind === 'string') {
      while (token.kind === 'string') {
        if (token.bytes) throw refuse();
        token = this.#next();
      }
    } else if (isName(token, 'None')) {
      token = this.#next();
    } else {
      for (;;) {
        if (token.kind !== 'name' || PYTHON_KEYWORDS.has(token.text)) throw refuse();
        token = this.#next();
        if (!isOp(token, '.')) break;
        token = this.#next();
      }
    }
    if (!followers.some((follower) => isOp(token, follower))) throw refuse();
    return token;
  }

  /** A literal starting at `token`; returns the token after it. */
  #next(): Token {
    return this.#tokens.next();
  }

  #literal(token: Token, depth: number, refuse: () => Refused): Token {
    if (token.kind === 'string') {
      while (token.kind === 'string') token = this.#next();
      return token;
    }
    if (isOp(token, '-') || isOp(token, '+')) {
      if (this.#next().kind !== 'number') throw refuse();
      return this.#next();
    }
    if (token.kind === 'number' || isOp(token, '...')) return this.#next();
    if (isName(token, 'None') || isName(token, 'True') || isName(token, 'False')) {
      return this.#next();
    }
    if (!isOp(token, '(') || depth >= MAX_LITERAL_DEPTH) throw refuse();
    this.#tokens.depth += 1;
    token = this.#next();
    while (!isOp(token, ')')) {
      token = this.#literal(token, depth + 1, refuse);
      if (isOp(token, ',')) token = this.#next();
      else if (!isOp(token, ')')) throw refuse();
    }
    this.#tokens.depth -= 1;
    return this.#next();
  }
}

function describe(token: Token): string {
  if (token.kind === 'string') return 'a string';
  if (token.kind === 'newline') return 'a line end';
  if (token.kind === 'end') return 'the end of the source';
  return JSON.stringify(token.text);
}

function isName(token: Token, text: string): boolean {
  return token.kind === 'name' && token.text === text;
}

function isOp(token: Token, text: string): boolean {
  return token.kind === 'op' && token.text === text;
}

function isOther(token: Token, text: string): boolean {
  return token.kind === 'other' && token.text === text;
}
