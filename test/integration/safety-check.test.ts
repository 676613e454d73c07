import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SandboxProcess, type ExecuteResult } from '../support/sandbox-process.js';

// `mcp.runtime.check_code_safety` (sandbox/mcp/safety*.py) run in the real
// runner through the protocol, as a cell would call it. The code under check travels as
// a JSON string inside a JSON string (a valid Python literal), so no test input can
// break out of the cell that checks it.

const findingSchema = z.strictObject({
  rule: z.string(),
  message: z.string(),
  line: z.number().int().nonnegative(),
  col: z.number().int().nonnegative(),
  severity: z.enum(['high', 'medium', 'low']),
});
const reportSchema = z.strictObject({
  is_safe: z.boolean(),
  warnings: z.array(z.string()),
  findings: z.array(findingSchema),
  truncated: z.boolean(),
});
type Report = z.infer<typeof reportSchema>;
type Finding = z.infer<typeof findingSchema>;

/** A Python expression whose value is `text`, whatever it contains. */
const pyString = (text: string): string =>
  `__import__("json").loads(${JSON.stringify(JSON.stringify(text))})`;

/** Python bytes literal of `data`, every byte escaped. */
const pyBytes = (data: Buffer): string =>
  `b'${[...data].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}'`;

describe('check_code_safety in the sandbox', () => {
  let sandbox: SandboxProcess;

  beforeAll(async () => {
    sandbox = new SandboxProcess();
    await sandbox.takeType('ready');
  });
  afterAll(async () => {
    await sandbox.close();
    expect(sandbox.badLines).toEqual([]);
  });

  function completed(result: ExecuteResult): ExecuteResult {
    expect(result.stderr).toBe('');
    expect(result.done).toMatchObject({ outcome: 'completed', exitCode: 0 });
    return result;
  }

  /** Runs the checker on the value of the Python expression `expression`. */
  async function checkExpression(expression: string, before = ''): Promise<Report> {
    const result = completed(
      await sandbox.execute(
        `${before}\nfrom mcp import runtime as _rt\nimport json as _json\n` +
          `print(_json.dumps(_rt.check_code_safety(${expression})))`,
      ),
    );
    const report = reportSchema.parse(JSON.parse(result.stdout));
    expect(report.warnings).toHaveLength(report.findings.length);
    report.findings.forEach((finding, index) => {
      expect(report.warnings[index]).toContain(finding.message);
      expect(report.warnings[index]).toMatch(finding.line ? `line ${finding.line}: ` : 'source: ');
    });
    expect(report.is_safe).toBe(!report.findings.some((f) => f.severity !== 'low'));
    return report;
  }

  const check = (code: string): Promise<Report> => checkExpression(pyString(code));

  /** The one finding of `rule` (there must be exactly one). */
  function only(report: Report, rule: string): Finding {
    const found = report.findings.filter((f) => f.rule === rule);
    expect(found, JSON.stringify(report.findings)).toHaveLength(1);
    return found[0] as Finding;
  }

  function has(report: Report, expected: Record<string, unknown>): void {
    expect(report.findings, JSON.stringify(report.warnings)).toContainEqual(
      expect.objectContaining(expected),
    );
  }

  it('finds nothing in plain code', async () => {
    const report = await check(
      [
        'import math, json, collections',
        'from dataclasses import dataclass',
        '',
        '@dataclass',
        'class Point:',
        '    x: float',
        '    y: float',
        '    def norm(self) -> float:',
        '        return math.hypot(self.x, self.y)',
        '',
        'points = [Point(i, i * 2) for i in range(10)]',
        'print(json.dumps({"total": sum(p.norm() for p in points)}))',
        'counts = collections.Counter("hello world")',
        'async def main():',
        '    return await other()',
        'value = await main()',
      ].join('\n'),
    );
    expect(report).toEqual({ is_safe: true, warnings: [], findings: [], truncated: false });
  });

  it.each([
    ['eval("1 + 1")', 'dangerous_call', 'high', 'calls eval()'],
    ['exec("x = 1")', 'dangerous_call', 'high', 'calls exec()'],
    ['compile("1", "<s>", "eval")', 'dangerous_call', 'high', 'calls compile()'],
    ['__import__("os")', 'dynamic_import', 'high', 'imports os through __import__()'],
    ['open("/etc/passwd").read()', 'file_operation', 'medium', 'calls open()'],
    ['file("/etc/passwd")', 'file_operation', 'medium', 'calls file()'],
    ['import io\nio.open("x")', 'file_operation', 'medium', 'calls io.open()'],
  ])('flags the call in %j', async (code, rule, severity, text) => {
    const report = await check(code);
    expect(report.is_safe).toBe(false);
    const finding = only(report, rule);
    expect(finding).toMatchObject({ severity, line: code.split('\n').length, col: 1 });
    expect(finding.message).toContain(text);
    expect(report.warnings).toContain(`line ${finding.line}: ${finding.message} [${severity}]`);
  });

  it('reports breakpoint() and input() as low: a warning, still safe', async () => {
    const report = await check('breakpoint()\nname = input()');
    expect(report.is_safe).toBe(true);
    expect(report.findings.map((f) => [f.rule, f.severity, f.line])).toEqual([
      ['dangerous_call', 'low', 1],
      ['dangerous_call', 'low', 2],
    ]);
  });

  it.each([
    ['import os', 'high'],
    ['import sys', 'medium'],
    ['import subprocess', 'high'],
    ['import socket', 'high'],
    ['import shutil', 'medium'],
    ['import ctypes', 'high'],
    ['import multiprocessing', 'high'],
    ['import pty', 'high'],
    ['import signal', 'medium'],
    ['import importlib', 'high'],
    ['import builtins', 'high'],
    ['import marshal', 'high'],
    ['import pickle', 'high'],
    ['import code', 'high'],
    ['import codeop', 'high'],
    ['import pathlib', 'medium'],
    ['import os.path', 'high'],
    ['import subprocess as sp', 'high'],
    ['from subprocess import run', 'high'],
    ['from os import system as s', 'high'],
    ['from importlib import import_module', 'high'],
    ['from pathlib import Path', 'medium'],
    ['from os import *', 'high'],
  ])('flags the import %j', async (code, severity) => {
    const report = await check(code);
    expect(report.is_safe).toBe(false);
    expect(only(report, 'dangerous_import')).toMatchObject({ severity, line: 1, col: 1 });
  });

  it('leaves relative imports alone and reports os.path as low', async () => {
    expect((await check('from . import os\nfrom .subprocess import run')).findings).toEqual([]);
    const path = await check('from os import path\nimport os.path as p');
    expect(path.is_safe).toBe(true);
    expect(path.findings.map((f) => f.severity)).toEqual(['low', 'low']);
  });

  it('names every flagged module of one import statement', async () => {
    const report = await check('import json, socket, shutil');
    const finding = only(report, 'dangerous_import');
    expect(finding.severity).toBe('high');
    expect(finding.message).toMatch(/socket: .*; shutil: /);
    expect(finding.message).not.toContain('json');
  });

  it.each([
    [
      'import os\ngetattr(os, "system")("id")',
      'system_command',
      'calls os.system() (reached indirectly)',
    ],
    ['getattr(__builtins__, "eval")("1")', 'dangerous_call', 'calls eval() (reached indirectly)'],
    ['__builtins__["eval"]("1")', 'dangerous_call', 'calls eval() (reached indirectly)'],
    ['__builtins__.__dict__["exec"]("x = 1")', 'dangerous_call', 'calls exec()'],
    ['globals()["__builtins__"]["eval"]("1")', 'dangerous_call', 'calls eval()'],
    ['vars(__builtins__)["exec"]("x = 1")', 'dangerous_call', 'calls exec()'],
    ['g = globals()\ng["eval"]("1")', 'dangerous_call', 'calls eval()'],
    ['print.__self__.eval("1")', 'dangerous_call', 'calls eval()'],
    ['eval.__call__("1")', 'dangerous_call', 'calls eval() (written eval.__call__)'],
    [
      'import importlib\nimportlib.import_module("subprocess").run(["id"])',
      'system_command',
      'calls subprocess.run()',
    ],
    ['__import__("o" + "s").system("id")', 'system_command', 'calls os.system()'],
    ['__import__("".join(["o", "s"])).popen("id")', 'system_command', 'calls os.popen()'],
    ['__import__("so"[::-1]).system("id")', 'system_command', 'calls os.system()'],
    ['import sys\nsys.modules["os"].system("id")', 'system_command', 'calls os.system()'],
    [
      'import sys\nsys.modules.get("subprocess").call("id")',
      'system_command',
      'calls subprocess.call()',
    ],
    ['import os\nos.system("id")', 'system_command', 'calls os.system()'],
    ['import os\nos.popen("id").read()', 'system_command', 'calls os.popen()'],
    ['import os\nos.execvp("sh", ["sh"])', 'system_command', 'calls os.execvp()'],
    ['import os\nos.spawnlp(os.P_WAIT, "id", "id")', 'system_command', 'calls os.spawnlp()'],
    [
      'import posix\nposix.system("id")',
      'system_command',
      'calls os.system() (written posix.system)',
    ],
    [
      'import subprocess\nsubprocess.check_output(["id"])',
      'system_command',
      'calls subprocess.check_output()',
    ],
    [
      'import asyncio\nawait asyncio.create_subprocess_shell("id")',
      'system_command',
      'calls asyncio.create_subprocess_shell()',
    ],
    ['import ctypes\nctypes.CDLL(None).system(b"id")', 'native_code', 'calls ctypes.CDLL()'],
    ['import pickle\npickle.loads(data)', 'deserialization', 'calls pickle.loads()'],
    ['list(map(eval, ["1"]))', 'indirect_reference', 'passes eval around'],
    ['import os\nclass A:\n    run = os.system', 'indirect_reference', 'passes os.system around'],
    ['f.__globals__["os"].system("id")', 'system_command', 'calls os.system()'],
    [
      'import sys\nsys._getframe().f_back.f_globals["os"].popen("id")',
      'system_command',
      'calls os.popen()',
    ],
    [
      '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"][0]()' +
        '._module.__builtins__["__import__"]("os")',
      'dynamic_import',
      'imports os through __import__()',
    ],
    ['getattr(x, name)', 'dynamic_attribute', 'gets an attribute by computed name'],
    ['__builtins__[name]', 'dynamic_attribute', 'computed name in __builtins__'],
    [
      'import operator\noperator.attrgetter("__globals__")(f)',
      'introspection',
      'gets __globals__ through a string',
    ],
  ])('sees through %j', async (code, rule, text) => {
    const report = await check(code);
    expect(report.is_safe).toBe(false);
    expect(report.findings.filter((f) => f.rule === rule).map((f) => f.message)).toContainEqual(
      expect.stringContaining(text),
    );
  });

  it('reports reaching __builtins__ and sys.modules themselves', async () => {
    has(await check('b = __builtins__'), { rule: 'builtins_access', severity: 'medium' });
    has(await check('g = globals()["__builtins__"]'), {
      rule: 'builtins_access',
      message: 'reaches the builtins module indirectly',
    });
    has(await check('import sys\nm = sys.modules'), {
      rule: 'introspection',
      severity: 'high',
      message: 'uses sys.modules: reaches the table of loaded modules',
    });
  });

  it('rates attribute chains by what they walk through', async () => {
    const chain = await check('().__class__.__bases__[0].__subclasses__()');
    expect(chain.findings).toEqual([
      expect.objectContaining({
        rule: 'introspection',
        severity: 'high',
        message: expect.stringContaining('walks __class__.__bases__.__subclasses__') as unknown,
      }),
    ]);
    const globals = await check('f.__init__.__globals__["os"]');
    expect(only(globals, 'introspection')).toMatchObject({ severity: 'high' });
    expect(only(await check('x.__class__.__mro__'), 'introspection').severity).toBe('high');
    expect(only(await check('f.__code__.co_varnames'), 'introspection').severity).toBe('medium');
    expect(only(await check('f.__closure__'), 'introspection').severity).toBe('medium');
    expect(only(await check('obj.__dict__'), 'introspection').severity).toBe('low');
    const name = await check('print(self.__class__.__name__)');
    expect(name.is_safe).toBe(true);
    expect(only(name, 'introspection').severity).toBe('low');
  });

  it('flags exec() of decoded or computed strings, and reads what they decode to', async () => {
    const source = 'import os; os.system("id")';
    const payloads = [
      [
        `import base64\nexec(base64.b64decode("${Buffer.from(source).toString('base64')}"))`,
        'base64.b64decode()',
      ],
      [`exec(bytes.fromhex("${Buffer.from(source).toString('hex')}"))`, 'bytes.fromhex()'],
      [
        `import codecs\nexec(codecs.decode("${rot13(source).replace(/"/g, '\\"')}", "rot13"))`,
        'codecs.decode()',
      ],
      [
        `exec("".join(chr(c) for c in [${[...source].map((c) => c.charCodeAt(0)).join(', ')}]))`,
        '.join()',
      ],
      [
        `import zlib\nexec(zlib.decompress(${pyBytes(deflateSync(Buffer.from(source)))}))`,
        'zlib.decompress()',
      ],
      [
        `from base64 import b64decode as d\ns = "${Buffer.from(source).toString('base64')}"\neval(compile(d(s), "x", "exec"))`,
        'base64.b64decode()',
      ],
    ];
    for (const [code, decoder] of payloads) {
      const report = await check(code as string);
      const line = (code as string).split('\n').length;
      const decoded = report.findings.filter((f) => f.rule === 'exec_decoded');
      expect(decoded.length, JSON.stringify(report.warnings)).toBeGreaterThanOrEqual(1);
      expect(decoded[0]).toMatchObject({ severity: 'high', line });
      expect(decoded[0]?.message).toContain(`a string made by ${decoder}`);
      expect(decoded[0]?.message).toContain('executes a decoded/computed string');
      // What the string decodes to is analysed too.
      has(report, {
        rule: 'system_command',
        line,
        message: expect.stringContaining('runs: calls os.system()') as unknown,
      });
    }
  });

  it('flags exec() of a string made at run time even when it cannot decode it', async () => {
    const report = await check('import base64\nexec(base64.b64decode(open("payload").read()))');
    expect(only(report, 'exec_decoded').message).toContain('base64.b64decode()');
    const computed = await check('exec(prefix + "import os")');
    expect(only(computed, 'exec_decoded').message).toContain('run-time string operations');
  });

  it('analyses the code in a constant string passed to exec()', async () => {
    const report = await check('exec(\'import subprocess; subprocess.run(["id"])\')');
    has(report, { rule: 'dangerous_call', message: 'calls exec(): runs a string as Python code' });
    has(report, {
      rule: 'dangerous_import',
      message: expect.stringContaining('in the code exec() runs: imports subprocess') as unknown,
    });
    has(report, {
      rule: 'system_command',
      message: expect.stringContaining(
        'in the code exec() runs: calls subprocess.run()',
      ) as unknown,
    });
  });

  it('sees full-width look-alikes as the names Python runs', async () => {
    const report = await check("x = 1\ny = ｅｖａｌ('1')");
    const finding = only(report, 'dangerous_call');
    expect(finding).toMatchObject({ severity: 'high', line: 2, col: 5 });
    expect(finding.message).toBe(
      'calls eval() (written ｅｖａｌ, which Python reads as eval): runs a string as Python code',
    );
    has(await check('ｅｘｅｃ("x")'), {
      rule: 'dangerous_call',
      message: expect.stringContaining('calls exec()') as unknown,
    });
    has(await check('import ｏｓ\nｏｓ.ｓｙｓｔｅｍ("id")'), { rule: 'system_command', line: 2 });
  });

  it('resolves aliases', async () => {
    has(await check('import os as o\no.system("id")'), {
      rule: 'system_command',
      line: 2,
      message: 'calls os.system() (written o.system): runs a program or shell command',
    });
    has(await check('from os import system as s\ns("id")'), {
      rule: 'system_command',
      message: expect.stringContaining('calls os.system() (written s)') as unknown,
    });
    has(await check('e = eval\nf = e\nf("1")'), {
      rule: 'dangerous_call',
      line: 3,
      message: 'calls eval() (written f): runs a string as Python code',
    });
    has(await check('import subprocess as sp\nrun = sp.Popen\nrun(["id"])'), {
      rule: 'system_command',
      message: expect.stringContaining('calls subprocess.Popen() (written run)') as unknown,
    });
    has(await check('i = __import__\ni("os").system("id")'), { rule: 'system_command' });
    has(await check('def f(run=exec):\n    run("x = 1")'), { rule: 'dangerous_call', line: 2 });
    has(await check('for f in (eval, exec):\n    f("1")'), { rule: 'dangerous_call', line: 2 });
  });

  it('reports a syntax error as a finding, not an exception', async () => {
    const report = await check('x = 1\ndef broken(:\n    pass');
    expect(report.is_safe).toBe(false);
    expect(report.truncated).toBe(false);
    expect(only(report, 'syntax_error')).toMatchObject({ severity: 'high', line: 2, col: 12 });
    expect(only(await check('x = "\\x00"\0'), 'syntax_error').message).toContain('null bytes');
  });

  it('does not run the code it checks', async () => {
    const marker = `/tmp/safety-check-${randomBytes(6).toString('hex')}`;
    const payload = [
      'print("EXECUTED")',
      `open(${JSON.stringify(marker)}, "w").write("x")`,
      `__import__("os").system("touch ${marker}-os")`,
      `exec("open('${marker}-exec', 'w')")`,
      'raise SystemExit(3)',
    ].join('\n');
    try {
      const report = await check(payload);
      expect(report.is_safe).toBe(false);
      for (const suffix of ['', '-os', '-exec']) expect(existsSync(marker + suffix)).toBe(false);
      const result = completed(await sandbox.execute('print("still here")'));
      expect(result.stdout).toBe('still here\n');
    } finally {
      for (const suffix of ['', '-os', '-exec']) rmSync(marker + suffix, { force: true });
    }
  });

  it('prints no warnings of the parser into the cell, and leaves its filters alone', async () => {
    // With "always", Python 3.11 prints the parser's DeprecationWarning for "\d"
    // (3.12+: SyntaxWarning) on stderr, which completed() rejects.
    const before = 'import warnings\nwarnings.simplefilter("always")';
    const report = await checkExpression(pyString('x = "\\d"\ny = b"\\q"'), before);
    expect(report.findings).toEqual([]);
    const filters = completed(await sandbox.execute('print(warnings.filters[0][0])'));
    expect(filters.stdout).toBe('always\n');
  });

  // How long these take is a figure of bench/runner.bench.ts.
  it('flags 3 MB of source, not analysed', async () => {
    const report = await checkExpression('"x = 1\\n" * 500_000');
    expect(report).toMatchObject({ is_safe: false, truncated: true });
    expect(only(report, 'too_large')).toMatchObject({ severity: 'high', line: 0, col: 0 });
    expect(report.warnings).toEqual([
      'source: source is 3,000,000 bytes, over the 2,000,000-byte limit: not analysed [high]',
    ]);
  });

  it('bounds the parse by tokens, not only bytes', async () => {
    // 1 MB of `a;`: about 600 MB of syntax tree if it were parsed.
    const report = await checkExpression('"a;" * 500_000');
    expect(only(report, 'too_large').message).toContain('tokens');
    expect(report.truncated).toBe(true);
  });

  it('analyses the largest source it accepts', async () => {
    const report = await checkExpression('"a\\n" * 49_000 + "eval(x)\\n"');
    expect(report).toMatchObject({ truncated: false, is_safe: false });
    has(report, { rule: 'dangerous_call', line: 49_001 });
  });

  it('stops at its time budget and says so', async () => {
    // Each x[s12] folds an 8,191-node string expression: far more work than 3 s allows
    // (with s10, 4× less, a fast quiet machine finished in time). The bound below is the
    // behaviour under test (the budget stops the work, it does not only label it), not
    // a speed figure: 3 s of budget and room for a loaded machine.
    const started = performance.now();
    const report = await checkExpression(
      '"s0 = \'a\'\\n" + "".join(f"s{i + 1} = s{i} + s{i}\\n" for i in range(12)) + "x[s12]\\n" * 15_000',
    );
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(report).toMatchObject({ is_safe: false, truncated: true });
    expect(only(report, 'time_budget')).toMatchObject({
      severity: 'high',
      line: 0,
      message: 'analysis stopped after 3 s: the rest of the code is unchecked',
    });
  });

  it('turns deep nesting into a finding and keeps the sandbox working', async () => {
    const cases = [
      ['"a" + "+a" * 40_000', 'too_complex', 'nested too deeply'],
      ['"a" + ".b" * 30_000', 'too_complex', 'nested too deeply'],
      ['"f()" + "()" * 40_000', 'too_complex', 'nested too deeply'],
      ['"-" * 90_000 + "1"', 'too_complex', ''],
      ['"not " * 60_000 + "1"', 'too_complex', ''],
      ['"(" * 50_000', 'syntax_error', 'too many nested parentheses'],
      ['"a" + "+a" * 200_000', 'too_large', 'tokens'],
    ];
    for (const [expression, rule, text] of cases) {
      const report = await checkExpression(expression as string);
      expect(report.is_safe).toBe(false);
      expect(only(report, rule as string).message).toContain(text);
      expect(report.truncated).toBe(rule !== 'syntax_error');
    }
    const result = completed(await sandbox.execute('print(sum(range(10)))'));
    expect(result.stdout).toBe('45\n');
  });

  it('stays within the C stack when the cell raised the recursion limit', async () => {
    // On Python 3.11 the parser's C recursion allowance follows sys.getrecursionlimit():
    // raised this far, a deep tree would overflow the C stack of the compile step and
    // beyond; the checker parses under its own limit, then restores the cell's.
    const report = await checkExpression(
      '"a" + "+a" * 45_000',
      'import sys\nsys.setrecursionlimit(10**6)',
    );
    expect(only(report, 'too_complex').message).toContain('nested too deeply');
    const after = completed(
      await sandbox.execute(
        'import sys, gc\nprint(sys.getrecursionlimit(), gc.isenabled())\nsys.setrecursionlimit(1000)',
      ),
    );
    expect(after.stdout).toBe('1000000 True\n');
  });

  it('frees the syntax tree at once: no reference cycles left for the collector', async () => {
    // The collector is paused while the check runs; a cycle through the analysis would
    // keep a tree of up to ~100 MB alive until the next full collection.
    const result = completed(
      await sandbox.execute(
        [
          'import gc',
          'from mcp import runtime',
          'gc.collect()',
          'gc.disable()  # so that no automatic collection hides a cycle',
          "code = \"import base64\\nexec(base64.b64decode('aW1wb3J0IG9z'))\\n\" + \"x['a' + 'b'](y)\\n\" * 2000",
          'report = runtime.check_code_safety(code)',
          'print(len(report["findings"]), gc.collect(), gc.isenabled())',
          'gc.enable()',
        ].join('\n'),
      ),
    );
    expect(result.stdout).toBe('2 0 False\n');
  });

  it('lists at most 100 findings and counts the rest', async () => {
    const report = await checkExpression('"eval(x)\\n" * 5_000');
    expect(report.findings).toHaveLength(100);
    expect(report.findings.at(-1)).toEqual({
      rule: 'more_findings',
      message: 'and 4,901 more findings',
      line: 0,
      col: 0,
      severity: 'high',
    });
    expect(report.is_safe).toBe(false);
  });
});

function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}
