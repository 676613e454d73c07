import { toolSourceProblem } from '../../src/state/tool-rule.js';

/**
 * The saved-tool rule's cases: one table, read by the host's implementation
 * (src/state/tool-rule.ts, test/unit/state/tool-rule.test.ts) and the sandbox's
 * (sandbox/mcp/_tool_rule.py, test/integration/saved-tool-rule.test.ts), which must agree.
 */

const ok = undefined;
const SINGLE = /a single function definition/;
const DEFAULT = /default value of 'x' must be a literal/;
const ANNOTATION = /annotation of 'x' may only be/;

export const CASES: [name: string, source: string, expected: RegExp | undefined][] = [
  // Accepted: what agents write.
  [
    'greet',
    'def greet(name, punctuation="!"):\n    """Greets."""\n    return f"hi {name}{punctuation}"\n',
    ok,
  ],
  ['fetch', 'async def fetch(url: str, *, timeout: float = 10.0) -> dict:\n    return {}\n', ok],
  [
    'tidy',
    'def tidy(\n    a,\n    b=(1, -2.5, 3j, b"x", None, True, ...),\n    /,\n    c: "list[int]" = (),\n    *rest: typing.Any,\n    **kw: None,\n) -> "dict[str, int]":\n    pass\n',
    ok,
  ],
  ['inline', 'def inline(): return 1\n', ok],
  [
    'commented',
    'def commented(x=1):  # note\n# a comment at column 0\n\n    return x  # fine\n',
    ok,
  ],
  ['strings', "def strings(a='a' \"b\", b=r'\\'', c='''x\ny''', d=u'\\\\'):\n    return a\n", ok],
  [
    'numbers',
    'def numbers(a=0x_FF, b=1_000.5e-3, c=.5, d=1., e=0o17, f=0b1, g=+7, h=1E5J):\n    pass\n',
    ok,
  ],
  [
    'body',
    'def body():\n    @decorator\n    def inner(x=compute()): ...\n    import os\n    return f"{x[\'k\']}"\n',
    ok,
  ],
  ['joined', 'def joined(a,\\\n           b=2) \\\n        -> int:\n    return a\n', ok],
  // Names.
  ['print', 'def print():\n    pass\n', /'print' is a Python builtin/],
  ['open', 'def open():\n    pass\n', /'open' is a Python builtin/],
  ['runtime', 'def runtime():\n    pass\n', /'runtime' is provided by the sandbox/],
  ['mcp_github', 'def mcp_github():\n    pass\n', /provided by the sandbox/],
  ['__init__', 'def __init__():\n    pass\n', /dunder/],
  ['None', 'def None():\n    pass\n', /keyword/],
  ['a-b', 'def a():\n    pass\n', /not a valid tool name/],
  ['ｐｒｉｎｔ', 'def ｐｒｉｎｔ():\n    pass\n', /not a valid tool name/],
  ['innocent', 'def open():\n    pass\n', /defines 'open', not 'innocent'/],
  // Module-level code.
  ['evil', 'import os\ndef evil():\n    pass\n', SINGLE],
  ['evil', '# leading comment\ndef evil():\n    pass\n', SINGLE],
  ['evil', ' def evil():\n    pass\n', SINGLE],
  ['evil', 'def evil():\n    pass\nimport os\n', /line 3 is not indented/],
  ['evil', 'def evil():\n    pass\ndef other():\n    pass\n', /line 3 is not indented/],
  ['evil', 'def evil():\n    return """\n"""\nimport os\n', /line 3 is not indented/],
  ['evil', 'def evil(): pass\nimport os\n', /line 2 is not indented/],
  ['evil', 'def evil():\n    pass\n\fimport os\n', /control character/],
  ['evil', 'def evil():\n    pass\n  \fimport os\n', /control character/],
  ['evil', 'def evil():\r    pass\rimport os\r', /control character/],
  ['evil', 'class evil:\n    pass\n', SINGLE],
  ['evil', 'evil = lambda: 1\n', SINGLE],
  // Decorators and type parameters.
  ['evil', '@print\ndef evil():\n    pass\n', /decorators/],
  ['evil', '@(lambda f: f)\ndef evil():\n    pass\n', /decorators/],
  // Defaults.
  ['evil', 'def evil(x=__import__("os").system("id")):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=print):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=a.b):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=[1]):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x={}):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=1 + 2):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=10**10**10):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=-True):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=--1):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=-(1,)):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=f"{print()}"):\n    pass\n', /./],
  ['evil', 'def evil(x=(1, print())):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=1if 1 else 2):\n    pass\n', /./],
  ['evil', 'def evil(x=(yield)):\n    pass\n', /./],
  ['evil', 'def evil(*, x=__import__("os")):\n    pass\n', DEFAULT],
  ['evil', 'def evil(x=lambda: 1):\n    pass\n', DEFAULT],
  // Annotations.
  ['evil', 'def evil(x: print()):\n    pass\n', ANNOTATION],
  ['evil', 'def evil(x: list[int]):\n    pass\n', ANNOTATION],
  ['evil', 'def evil(x: int | None):\n    pass\n', ANNOTATION],
  ['evil', 'def evil(x: b"int"):\n    pass\n', ANNOTATION],
  ['evil', 'def evil(*x: f()):\n    pass\n', /annotation of 'x'/],
  ['evil', 'def evil(**x: f()):\n    pass\n', /annotation of 'x'/],
  ['evil', 'def evil() -> f():\n    pass\n', /return annotation/],
  ['evil', 'def evil() -> (x := 1):\n    pass\n', /return annotation/],
  // Broken or odd headers.
  ['evil', 'def evil(x=1)\n:\n    pass\n', /./],
  ['evil', 'def evil(x="\n"):\n    pass\n', /./],
  ['evil', 'def evil():\n', /./],
  ['evil', 'def evil(x=1, y=é):\n    pass\n', /./],
  ['evil', 'def evil(é=1):\n    pass\n', /./],
  ['evil', '', /empty/],
];

/** Pieces of def lines and bodies, joined at random into sources an attacker might try. */
const HEADER_PIECES = [
  'x', 'y', 'a.b', '=', ':', ',', '(', ')', '*', '**', '/', '-', '+', '1', '1.', '.5', '0x1',
  '1j', '1e5', '"s"', "'s'", 'b"s"', 'r"\\""', 'f"s"', '"""t\nu"""', 'None', 'True', '...',
  '->', '[', ']', '{', '}', '|', 'lambda', 'print', '()', '#c\n', '\\\n', '\n', ' ', 'if',
  'else', 'not', '@', ':=', '1if', 'é', '\t', '"a" "b"', '0_0', '1_', 'int',
]; // prettier-ignore
const BODY_PIECES = [
  '"""', "'''", '"', "'", '\\', '\n', '\n    ', '\n  ', '\n\t', '\nimport os', '\n#', 'x = (',
  ')', '[', ']', 'f"{', '}"', 'f"""{', '{', '}', ' ', 'return ', 'pass', '\n\n', '# c', 'r"',
  'b"', ';', 'def g():', '\n        ', '\\\n', 'lambda: 1', 'x', '\f',
]; // prettier-ignore

/** Sources the host accepts, out of `count` random ones (a fixed seed: the same every run). */
export function acceptedAtRandom(count: number): string[] {
  let state = 20260101; // xorshift32
  const random = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const pick = (pieces: string[], most: number) =>
    Array.from({ length: 1 + random(most) }, () => pieces[random(pieces.length)]).join('');
  const accepted = new Set<string>();
  for (let index = 0; index < count; index += 1) {
    const header = `def f(${pick(HEADER_PIECES, 7)})${random(4) === 0 ? ` -> ${pick(HEADER_PIECES, 1)}` : ''}:\n    pass\n`;
    const body = `${random(3) === 0 ? 'def f(): ' : 'def f():\n    '}${pick(BODY_PIECES, 10)}\n`;
    for (const source of [header, body]) {
      if (toolSourceProblem('f', source) === undefined) accepted.add(source);
    }
  }
  return [...accepted];
}
