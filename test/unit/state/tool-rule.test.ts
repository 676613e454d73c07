import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolNameProblem, toolSourceProblem } from '../../../src/state/tool-rule.js';
import { SANDBOX_DIR } from '../../support/sandbox-process.js';

/**
 * The saved-tool rule, as the host reads it (src/state/tool-rule.ts, no Python) and as
 * the sandbox does (sandbox/mcp/_tool_rule.py, Python's ast): one table of cases, both
 * implementations, the same verdicts.
 */

const ok = undefined;
const SINGLE = /a single function definition/;
const DEFAULT = /default value of 'x' must be a literal/;
const ANNOTATION = /annotation of 'x' may only be/;

const CASES: [name: string, source: string, expected: RegExp | undefined][] = [
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
function acceptedAtRandom(count: number): string[] {
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

function pythonVerdicts(
  cases: [string, string][] = CASES.map(([name, source]) => [name, source]),
): (string | null)[] {
  const script = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location("rule", ${JSON.stringify(path.join(SANDBOX_DIR, 'mcp', '_tool_rule.py'))})`,
    'rule = importlib.util.module_from_spec(spec); spec.loader.exec_module(rule)',
    'cases = json.load(sys.stdin)',
    'print(json.dumps([rule.tool_problem(name, source) for name, source in cases]))',
  ].join('\n');
  const output = execFileSync('python3', ['-I', '-c', script], {
    input: JSON.stringify(cases),
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(output) as (string | null)[];
}

describe('saved-tool rule', () => {
  it('the host accepts and refuses what the table says, with the reason', () => {
    for (const [name, source, expected] of CASES) {
      const problem = toolSourceProblem(name, source);
      if (expected === undefined) expect(problem, `${name}: ${source}`).toBeUndefined();
      else expect(problem, `${name}: ${source}`).toMatch(expected);
    }
  });

  it("the sandbox's Python check gives the same verdicts", () => {
    const verdicts = pythonVerdicts();
    CASES.forEach(([name, source, expected], index) => {
      const problem = verdicts[index] ?? undefined;
      if (expected === undefined) expect(problem, `${name}: ${source}`).toBeUndefined();
      else expect(problem, `${name}: ${source}`).toMatch(expected);
    });
  });

  it('what the host accepts, Python reads as one plain def or cannot compile (random sources)', () => {
    const accepted = acceptedAtRandom(20_000);
    expect(accepted.length).toBeGreaterThan(1000);
    const verdicts = pythonVerdicts(accepted.map((source) => ['f', source]));
    const wrong = accepted.filter((_, index) => {
      const problem = verdicts[index];
      return typeof problem === 'string' && !problem.startsWith('its source does not compile');
    });
    expect(wrong).toEqual([]);
  });

  it('refuses names that are not identifiers, whatever their source', () => {
    for (const name of ['', '../x', 'a b', 'a.b', '1abc', 'x'.repeat(101)]) {
      expect(toolNameProblem(name)).toMatch(/not a valid tool name/);
    }
    expect(toolNameProblem('x'.repeat(100))).toBeUndefined();
  });
});
