import { describe, it, expect } from 'vitest';
import { parseRunPythonArgs, type ParsedArgs } from '../../../src/server/run-python-args.js';

const limits = { defaultTimeoutSeconds: 30, maxTimeoutSeconds: 120 };

function parse(raw: unknown): ParsedArgs {
  return parseRunPythonArgs(raw, limits);
}

function messageOf(raw: unknown): string {
  const parsed = parse(raw);
  if (parsed.ok) throw new Error(`expected a validation error for ${JSON.stringify(raw)}`);
  return parsed.message;
}

function argsOf(raw: unknown) {
  const parsed = parse(raw);
  if (!parsed.ok) throw new Error(`unexpected validation error: ${parsed.message}`);
  return parsed.args;
}

describe('parseRunPythonArgs: code', () => {
  it.each([
    ['missing', {}],
    ['empty', { code: '' }],
    ['whitespace only', { code: '  \n\t ' }],
    ['a number', { code: 42 }],
    ['null', { code: null }],
    ['a list', { code: ['print(1)'] }],
  ])("%s code → Missing 'code' argument", (_name, raw) => {
    expect(messageOf(raw)).toBe("Missing 'code' argument");
  });

  it("undefined or null arguments → Missing 'code' argument", () => {
    expect(messageOf(undefined)).toBe("Missing 'code' argument");
    expect(messageOf(null)).toBe("Missing 'code' argument");
  });

  it('keeps the code exactly as given', () => {
    const code = '  x = 1\nprint(x)  \n';
    expect(argsOf({ code }).code).toBe(code);
  });
});

describe('parseRunPythonArgs: servers', () => {
  it.each([
    ['a string', 'fs'],
    ['an object', { fs: true }],
    ['a number', 1],
  ])("servers as %s → 'servers' must be a list", (_name, servers) => {
    expect(messageOf({ code: 'print(1)', servers })).toBe("'servers' must be a list");
  });

  it('rejects a list holding something other than names', () => {
    expect(messageOf({ code: 'print(1)', servers: ['fs', 3] })).toMatch(
      /^'servers' must be a list/,
    );
  });

  it('defaults to no servers', () => {
    expect(argsOf({ code: 'print(1)' }).servers).toEqual([]);
  });

  it('de-duplicates servers, keeping first-seen order', () => {
    expect(
      argsOf({ code: 'print(1)', servers: ['fs', 'memory', 'fs', 'memory', 'git'] }).servers,
    ).toEqual(['fs', 'memory', 'git']);
  });
});

describe('parseRunPythonArgs: timeout', () => {
  it.each([
    ['a fraction', 1.5],
    ['a numeric string', '5'],
    ['null', null],
    ['a boolean', true],
    ['NaN', Number.NaN],
  ])("timeout as %s → 'timeout' must be an integer", (_name, timeout) => {
    expect(messageOf({ code: 'print(1)', timeout })).toBe("'timeout' must be an integer");
  });

  it('rejects zero and negative timeouts', () => {
    expect(parse({ code: 'print(1)', timeout: 0 }).ok).toBe(false);
    expect(messageOf({ code: 'print(1)', timeout: 0 })).toMatch(/'timeout'/);
    expect(parse({ code: 'print(1)', timeout: -5 }).ok).toBe(false);
  });

  it('uses the default timeout when none is given', () => {
    expect(argsOf({ code: 'print(1)' }).timeoutSeconds).toBe(30);
  });

  it('keeps a timeout within the range', () => {
    expect(argsOf({ code: 'print(1)', timeout: 1 }).timeoutSeconds).toBe(1);
    expect(argsOf({ code: 'print(1)', timeout: 120 }).timeoutSeconds).toBe(120);
  });

  it('clamps a timeout above the maximum', () => {
    expect(argsOf({ code: 'print(1)', timeout: 121 }).timeoutSeconds).toBe(120);
    expect(argsOf({ code: 'print(1)', timeout: 100_000 }).timeoutSeconds).toBe(120);
  });

  it('clamps a default that is above the maximum', () => {
    const parsed = parseRunPythonArgs(
      { code: 'x' },
      { defaultTimeoutSeconds: 60, maxTimeoutSeconds: 10 },
    );
    expect(parsed).toEqual({
      ok: true,
      args: { code: 'x', servers: [], timeoutSeconds: 10, session: 'default' },
    });
  });
});

describe('parseRunPythonArgs: whole result', () => {
  it('returns code, servers, timeout and session', () => {
    expect(parse({ code: 'print(1)', servers: ['fs'], timeout: 7 })).toEqual({
      ok: true,
      args: { code: 'print(1)', servers: ['fs'], timeoutSeconds: 7, session: 'default' },
    });
    expect(parse({ code: 'x', session: 'a.b-c_1' })).toMatchObject({
      ok: true,
      args: { session: 'a.b-c_1' },
    });
  });

  it('refuses session names that are not 1-64 of [A-Za-z0-9_.-], or . and ..', () => {
    for (const session of ['', 'x'.repeat(65), '../x', 'a/b', 'café', '.', '..', 'a b', 7, null]) {
      expect(messageOf({ code: 'x', session }), JSON.stringify(session)).toMatch(
        /'session' must be/,
      );
    }
    expect(parse({ code: 'x', session: 'x'.repeat(64) }).ok).toBe(true);
    expect(parse({ code: 'x', session: '...' }).ok).toBe(true);
  });

  it('reports the code problem first when several arguments are wrong', () => {
    expect(messageOf({ servers: 'fs', timeout: 1.5 })).toBe("Missing 'code' argument");
  });
});
