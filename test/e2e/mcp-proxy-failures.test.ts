import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  procStatusBytes,
  REPO_ROOT,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * Proxied MCP servers that misbehave (test/fixtures/misbehaving-server.mjs, one configured
 * name per mode), broken configuration, and save_tool across bridge restarts: through the
 * real MCP SDK client over stdio against the built bridge and a real container.
 */

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/misbehaving-server.mjs');
const MiB = 1024 * 1024;

const fixture = (env: Record<string, string> = {}) => ({
  command: process.execPath,
  args: [FIXTURE],
  env,
});

describeEachEngine('misbehaving MCP servers and broken config', (engine) => {
  let bridge: BridgeHandle;
  let scratch: string;
  let stateDir: string;

  const run = async (code: string, servers: string[] = []) => {
    const result = await bridge.run({ code, servers });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return result;
  };
  const stdoutOf = async (code: string, servers: string[] = []) =>
    payloadOf(await run(code, servers)).stdout;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mcp-proxy-failures-e2e-'));
    stateDir = path.join(scratch, 'state');
    mkdirSync(stateDir);
    // Read first (file-name order): not JSON at all.
    writeFileSync(path.join(stateDir, 'a-broken.json'), '{"mcpServers": {"lost": ');
    const servers = {
      crashy: fixture(),
      'crash-init': fixture({ MISBEHAVE_CRASH_ON_INIT: '1' }),
      hang: fixture({ MISBEHAVE_HANG: '1' }),
      garbage: fixture({ MISBEHAVE_GARBAGE: '1' }),
      flood: fixture({ MISBEHAVE_STDERR_FLOOD: '1' }),
      'no-command': { args: ['x'] },
      'not-an-object': 'node server.js',
      self: { command: 'npx', args: ['-y', 'mcp-server-code-execution-mode', 'run'] },
    };
    writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify({ mcpServers: servers }));
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const GOOD = ['crash-init', 'crashy', 'flood', 'garbage', 'hang'];

  it('skips a broken file, bad entries and itself; the good servers load and answer', async () => {
    const code =
      'from mcp import runtime\nprint("NAMES " + json.dumps(runtime.discovered_servers()))';
    const listed = await run(`import json\n${code}`);
    expect(printedJson(listed, 'NAMES ')).toEqual(GOOD);
    expect(
      await stdoutOf('print((await mcp_crashy.echo(message="good")).text)', ['crashy']),
    ).toEqual(['good']);
    const log = bridge.stderr();
    expect(log).toContain('a-broken.json');
    expect(log).toContain('no-command');
    expect(log).toContain('not-an-object');

    // With MCP_BRIDGE_ALLOW_SELF_SERVER=1 the self-referencing entry is listed (not called).
    const allowing = await startBridge({
      dockerHost: engine.dockerHost,
      stateDir,
      env: { MCP_BRIDGE_ALLOW_SELF_SERVER: '1' },
    });
    try {
      const result = await allowing.run({ code: `import json\n${code}` });
      expect(printedJson(result, 'NAMES '), describeResult(result)).toEqual([...GOOD, 'self']);
    } finally {
      await allowing.close();
    }
  });

  it('reports a server that dies during initialize, with its name and its stderr', async () => {
    const result = await bridge.run({ code: 'print("not reached")', servers: ['crash-init'] });
    expect(result.isError).toBe(true);
    const payload = payloadOf(result);
    expect(payload.status).toBe('error');
    expect(payload.error).toContain("'crash-init'");
    expect(payload.error).toContain('fatal: cannot read configuration (simulated)');
    expect(payload.stdout ?? []).toEqual([]);
    expect(await stdoutOf('print("after")')).toEqual(['after']);
  });

  it('turns a crash mid-call into MCPError, and restarts the server for the next call', async () => {
    const crashed = await run(
      [
        'import json',
        'from mcp import runtime',
        'first_pid = (await mcp_crashy.pid()).text',
        'try:',
        '    await mcp_crashy.crash()',
        '    print("CRASH " + json.dumps("no error"))',
        'except runtime.MCPError as error:',
        '    print("CRASH " + json.dumps(str(error)))',
      ].join('\n'),
      ['crashy'],
    );
    const message = printedJson<string>(crashed, 'CRASH ');
    expect(message).toMatch(/MCP server 'crashy' exited/);
    expect(message).toContain('crashing on purpose'); // its stderr
    const next = await run(
      'p = (await mcp_crashy.pid()).text\nprint(p != first_pid, (await mcp_crashy.echo(message="back")).text)',
      ['crashy'],
    );
    expect(payloadOf(next).stdout).toEqual(['True back']);
  });

  it('cancels a hung tool call when its run_python call times out; the session goes on', async () => {
    await run('before_hang = "kept"');
    const stuck = await bridge.run({
      code: 'await mcp_hang.slow(ms=1)\nprint("unreached")',
      servers: ['hang'],
      timeout: 2,
    });
    expect(statusOf(stuck), describeResult(stuck)).toBe('timeout');
    expect(payloadOf(stuck).stdout ?? []).toEqual([]);
    const next = await stdoutOf('print(before_hang, (await mcp_hang.echo(message="alive")).text)', [
      'hang',
    ]);
    expect(next).toEqual(['kept alive']);
    // The server was told to stop the abandoned call (long before the 60 s call timeout).
    const count = () => stdoutOf('print((await mcp_hang.cancellations()).text)', ['hang']);
    expect(await waitFor(async () => (await count())?.[0] === '1', 5_000, 250)).toBe(true);
  });

  it('ignores blank lines and garbage on a server stdout, without restarting it', async () => {
    const result = await run(
      [
        'import json, asyncio',
        'pid = (await mcp_garbage.pid()).text',
        'one = [(await mcp_garbage.echo(message=f"s{i}")).text for i in range(20)]',
        'many = await asyncio.gather(*(mcp_garbage.echo(message=f"g{i}") for i in range(20)))',
        'print("ECHO " + json.dumps(one + [r.text for r in many]))',
        'print("SAME " + json.dumps(pid == (await mcp_garbage.pid()).text))',
      ].join('\n'),
      ['garbage'],
    );
    expect(printedJson(result, 'ECHO ')).toEqual([
      ...Array.from({ length: 20 }, (_, index) => `s${index}`),
      ...Array.from({ length: 20 }, (_, index) => `g${index}`),
    ]);
    expect(printedJson(result, 'SAME ')).toBe(true);
  });

  it('keeps answering a server that floods stderr, with bounded bridge memory', async () => {
    const before = procStatusBytes(bridge.pid, 'VmHWM');
    const result = await run(
      [
        'import asyncio',
        'from mcp import runtime',
        'for _ in range(200):',
        '    flooded = int((await mcp_flood.flooded()).text)',
        '    if flooded > 200 * 1024 * 1024: break',
        '    await asyncio.sleep(0.05)',
        'print(flooded, (await mcp_flood.echo(message="heard")).text)',
        'try:',
        '    await mcp_flood.crash()  # stops the flood for the tests that follow',
        'except runtime.MCPError:',
        '    pass',
      ].join('\n'),
      ['flood'],
    );
    const [flooded, heard] = (payloadOf(result).stdout?.[0] ?? '').split(' ');
    expect(heard).toBe('heard');
    expect(Number(flooded)).toBeGreaterThan(100 * MiB);
    const after = procStatusBytes(bridge.pid, 'VmHWM');
    expect(after - before).toBeLessThan(64 * MiB);
  });
});

describeEachEngine('save_tool across bridge restarts', (engine) => {
  let stateDir: string;

  beforeAll(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-saved-tools-e2e-'));
  });
  afterAll(() => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const withBridge = async <T>(body: (bridge: BridgeHandle) => Promise<T>): Promise<T> => {
    const bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
    try {
      return await body(bridge);
    } finally {
      await bridge.close();
    }
  };

  it('loads saved tools in a new bridge, reports a broken one, and forgets deleted ones', async () => {
    await withBridge(async (bridge) => {
      const saved = await bridge.run({
        code: [
          'default_greeting = "hi"',
          'def broken(x=default_greeting):  # needs a global that a new session lacks',
          '    return x',
          'def greet(name, punctuation="!"):',
          '    """Greets someone by name."""',
          '    return f"hello {name}{punctuation}"',
          'try:',
          '    save_tool(broken)',
          'except runtime.MCPError as error:',
          '    print(error)',
          'print(save_tool(greet))',
        ].join('\n'),
      });
      expect(payloadOf(saved).stdout, describeResult(saved)).toEqual([
        expect.stringMatching(/^Cannot save 'broken': the default value of 'x' must be a literal/),
        'greet',
      ]);
    });

    // A tool whose default needs a global, as an older version stored it (save_tool now
    // refuses it): the next session quarantines it instead of failing to load it.
    mkdirSync(path.join(stateDir, 'saved-tools'), { recursive: true });
    writeFileSync(
      path.join(stateDir, 'saved-tools', 'broken.json'),
      JSON.stringify({
        name: 'broken',
        source: 'def broken(x=default_greeting):\n    return x\n',
        savedAt: '2025-01-01T00:00:00.000Z',
      }),
    );
    await withBridge(async (bridge) => {
      const first = await bridge.run({
        code: [
          'import json',
          'from mcp import runtime',
          'print(greet("Ada"))',
          'print("SAVED " + json.dumps(runtime.list_saved_tools()))',
          'print("DELETED", runtime.delete_saved_tool("greet"), runtime.delete_saved_tool("nope"))',
        ].join('\n'),
      });
      const payload = payloadOf(first);
      expect(statusOf(first), describeResult(first)).toBe('success');
      expect(payload.stdout?.[0]).toBe('hello Ada!');
      const listed = printedJson<{ name: string; description?: string }[]>(first, 'SAVED ');
      expect(listed.map(({ name, description }) => [name, description])).toEqual([
        ['greet', 'Greets someone by name.'],
      ]);
      expect(payload.stdout?.at(-1)).toBe('DELETED True False');
      expect(payload.notices?.join('\n')).toMatch(
        /Saved tool 'broken' was quarantined and will not be loaded again: the default value of 'x' must be a literal/,
      );
    });

    await withBridge(async (bridge) => {
      const third = await bridge.run({
        code: [
          'from mcp import runtime',
          'print([t["name"] for t in runtime.list_saved_tools()], "greet" in globals())',
        ].join('\n'),
      });
      expect(payloadOf(third).stdout, describeResult(third)).toEqual(['[] False']);
      expect(payloadOf(third).notices ?? []).toEqual([]);
    });
  });
});
