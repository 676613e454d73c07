import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../../src/config/servers-config.js';
import { UpstreamClient, type UpstreamClientOptions } from '../../src/upstream/upstream-client.js';
import { UpstreamError } from '../../src/upstream/upstream-errors.js';
import { processIsAlive } from '../../src/util/process-alive.js';

const FIXTURE = path.resolve('test/fixtures/misbehaving-server.mjs');
const EVERYTHING = path.resolve(
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
const MEMORY = path.resolve('node_modules/@modelcontextprotocol/server-memory/dist/index.js');

/** A pino logger that keeps every record it writes, and counts the bytes. */
function recordingLogger(): {
  logger: pino.Logger;
  records: Record<string, unknown>[];
  bytes: () => number;
} {
  const records: Record<string, unknown>[] = [];
  let bytes = 0;
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        bytes += line.length;
        records.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, records, bytes: () => bytes };
}

function definition(overrides: Partial<ServerDefinition> = {}): ServerDefinition {
  return {
    name: 'fixture',
    command: process.execPath,
    args: [FIXTURE],
    env: {},
    cwd: undefined,
    description: undefined,
    source: 'test',
    ...overrides,
  };
}

const clients: UpstreamClient[] = [];

function fixture(
  env: Record<string, string> = {},
  options: Partial<UpstreamClientOptions> = {},
  overrides: Partial<ServerDefinition> = {},
): UpstreamClient {
  const client = new UpstreamClient(definition({ env, ...overrides }), recordingLogger().logger, {
    restartBackoffMs: [0],
    ...options,
  });
  clients.push(client);
  return client;
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  if (first?.type !== 'text')
    throw new Error(`expected text content, got ${JSON.stringify(result)}`);
  return first.text;
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

describe('UpstreamClient with the misbehaving fixture', () => {
  it('starts on first use and stays warm: a second call reuses the same process', async () => {
    const client = fixture();
    expect(client.pid).toBeUndefined();
    const names = (await client.tools()).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'slow', 'crash', 'cwd', 'env', 'pid']));
    const pid = client.pid;
    expect(pid).toBeTypeOf('number');
    expect(textOf(await client.callTool('echo', { message: 'hello' }))).toBe('hello');
    expect(textOf(await client.callTool('pid'))).toBe(String(pid));
    expect(client.pid).toBe(pid);
  });

  it('follows nextCursor to list every tool', async () => {
    const client = fixture({ MISBEHAVE_EXTRA_TOOLS: '7', MISBEHAVE_PAGE_SIZE: '3' });
    const names = (await client.tools()).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'extra-0', 'extra-6']));
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(10);
  });

  it('lists tools again after the server reports a list change', async () => {
    const client = fixture();
    expect((await client.tools()).map((tool) => tool.name)).not.toContain('late-tool');
    await client.callTool('add-tool', { name: 'late-tool' });
    expect((await client.tools()).map((tool) => tool.name)).toContain('late-tool');
    expect(textOf(await client.callTool('late-tool'))).toBe('late-tool');
  });

  it('answers 50 concurrent calls, each with its own result', async () => {
    const client = fixture();
    const messages = Array.from({ length: 50 }, (_, index) => `message ${index}`);
    const results = await Promise.all(
      messages.map((message) => client.callTool('echo', { message })),
    );
    expect(results.map(textOf)).toEqual(messages);
  });

  it('fails the calls in flight when the server crashes, then restarts it on next use', async () => {
    const client = fixture();
    await client.tools();
    const firstPid = client.pid;
    if (firstPid === undefined) throw new Error('no pid');
    const slow = rejection(client.callTool('slow', { ms: 30_000 }));
    const crashed = await rejection(client.callTool('crash', { code: 7 }));
    expect(crashed.code).toBe('upstream_crashed');
    expect(crashed.server).toBe('fixture');
    expect(crashed.message).toMatch(/MCP server 'fixture' exited while 'crash' was running/);
    expect(crashed.message).toMatch(/restarted on next use/);
    expect(crashed.message).toMatch(/crashing on purpose/);
    const other = await slow;
    expect(other.code).toBe('upstream_crashed');
    expect(other.message).toMatch(/while 'slow' was running/);
    expect(processIsAlive(firstPid)).toBe(false);
    expect(client.pid).toBeUndefined();

    expect(textOf(await client.callTool('echo', { message: 'again' }))).toBe('again');
    expect(client.pid).toBeTypeOf('number');
    expect(client.pid).not.toBe(firstPid);
  });

  it('notices a server that exits while idle and restarts it on next use', async () => {
    const client = fixture({ MISBEHAVE_EXIT_AFTER_MS: '1500' });
    await client.tools();
    const firstPid = client.pid;
    await vi.waitFor(() => expect(client.pid).toBeUndefined(), { timeout: 10_000 });
    expect(textOf(await client.callTool('echo', { message: 'back' }))).toBe('back');
    expect(client.pid).not.toBe(firstPid);
  });

  it('reports a crash during initialize with its stderr and command line, then backs off', async () => {
    const client = fixture({ MISBEHAVE_CRASH_ON_INIT: '1' }, { restartBackoffMs: [0, 60_000] });
    const first = await rejection(client.tools());
    expect(first.code).toBe('upstream_start_failed');
    expect(first.message).toMatch(/MCP server 'fixture' exited during startup/);
    expect(first.message).toContain('cannot read configuration (simulated)');
    expect(first.message).toContain(`Command: ${process.execPath} ${FIXTURE}`);

    const second = await rejection(client.callTool('echo', { message: 'x' }));
    expect(second.code).toBe('upstream_start_failed');

    const third = await rejection(client.callTool('echo', { message: 'x' }));
    expect(third.code).toBe('upstream_backoff');
    expect(third.message).toMatch(/failed 2 times in a row .* can be retried in \d+(\.\d)? s/);
  });

  it('stops a server that never finishes initializing, and says so', async () => {
    const hung = ['-e', 'console.error("pid " + process.pid); setInterval(() => {}, 1000)'];
    // Long enough for node to start and print its pid on a loaded machine (2 cores shared
    // with container tests); the message quotes that stderr line.
    const client = fixture({}, { initTimeoutMs: 3000 }, { args: hung });
    const error = await rejection(client.tools());
    expect(error.code).toBe('upstream_start_failed');
    expect(error.message).toMatch(/did not finish initializing within 3 s; it was stopped/);
    const pid = Number(/pid (\d+)/.exec(error.message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await vi.waitFor(() => expect(processIsAlive(pid)).toBe(false), { timeout: 10_000 });
  });

  it('close() during startup ends the process and fails the waiting request', async () => {
    const hung = ['-e', 'console.error("pid " + process.pid); setInterval(() => {}, 1000)'];
    const client = fixture({}, {}, { args: hung });
    const waiting = rejection(client.tools());
    await vi.waitFor(() => expect(client.lastStderrLines().join('')).toMatch(/pid \d+/));
    const pid = Number(/pid (\d+)/.exec(client.lastStderrLines().join(''))?.[1]);
    await client.close();
    expect(processIsAlive(pid)).toBe(false);
    expect((await waiting).code).toBe('upstream_closed');
  });

  it('explains a command that cannot be spawned', async () => {
    const client = fixture({}, {}, { command: 'no-such-mcp-server-command-xyz', args: ['--x'] });
    const error = await rejection(client.tools());
    expect(error.code).toBe('upstream_start_failed');
    expect(error.message).toMatch(/could not be started: .*ENOENT/);
    expect(error.message).toContain('Command: no-such-mcp-server-command-xyz --x');
  });

  it('explains a working directory that does not exist', async () => {
    const client = fixture({}, {}, { cwd: '/no/such/folder/for/mcp', source: 'servers.json' });
    const error = await rejection(client.tools());
    expect(error.code).toBe('upstream_start_failed');
    expect(error.message).toContain('/no/such/folder/for/mcp does not exist');
    expect(error.message).toContain('servers.json');
  });

  it('keeps working when the server writes blank lines and garbage to stdout', async () => {
    const { logger, records } = recordingLogger();
    const client = new UpstreamClient(definition({ env: { MISBEHAVE_GARBAGE: '1' } }), logger);
    clients.push(client);
    expect((await client.tools()).map((tool) => tool.name)).toContain('echo');
    for (let index = 0; index < 20; index += 1) {
      expect(textOf(await client.callTool('echo', { message: `m${index}` }))).toBe(`m${index}`);
    }
    const pid = client.pid;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client.callTool('echo', { message: `p${index}` })),
    );
    expect(results.map(textOf)).toEqual(Array.from({ length: 20 }, (_, index) => `p${index}`));
    expect(client.pid).toBe(pid);
    expect(
      records.some((record) => record.msg === 'ignored a stdout line that is not JSON-RPC'),
    ).toBe(true);
  });

  it('times out a hung call, tells the server to cancel it, and stays usable', async () => {
    const client = fixture({ MISBEHAVE_HANG: '1' });
    await client.tools();
    const pid = client.pid;
    const error = await rejection(client.callTool('slow', { ms: 1 }, { timeoutMs: 300 }));
    expect(error.code).toBe('upstream_timeout');
    expect(error.message).toBe(
      "MCP server 'fixture' did not answer 'slow' within 300 ms; the request was cancelled. " +
        'The server stays available for other calls.',
    );
    expect(textOf(await client.callTool('echo', { message: 'still here' }))).toBe('still here');
    expect(textOf(await client.callTool('cancellations'))).toBe('1');
    expect(client.pid).toBe(pid);
  });

  it('cancels a call when its signal aborts', async () => {
    const client = fixture({ MISBEHAVE_HANG: '1' });
    await client.tools();
    const controller = new AbortController();
    const call = client.callTool('slow', { ms: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('the run_python call ended')), 100);
    const error = await rejection(call);
    expect(error.code).toBe('upstream_cancelled');
    expect(textOf(await client.callTool('cancellations'))).toBe('1');
    const already = await rejection(
      client.callTool('echo', { message: 'x' }, { signal: AbortSignal.abort() }),
    );
    expect(already.code).toBe('upstream_cancelled');
  });

  it('keeps memory and the log bounded under a stderr flood, and calls still work', async () => {
    const { logger, bytes } = recordingLogger();
    const client = new UpstreamClient(definition({ env: { MISBEHAVE_STDERR_FLOOD: '1' } }), logger);
    clients.push(client);
    await client.tools();
    const pid = client.pid;
    const heapBefore = process.memoryUsage().heapUsed;
    let flooded = 0;
    for (let round = 0; round < 2_000 && flooded < 50_000_000; round += 1) {
      expect(textOf(await client.callTool('echo', { message: `r${round}` }))).toBe(`r${round}`);
      flooded = Number(textOf(await client.callTool('flooded')));
    }
    expect(flooded).toBeGreaterThanOrEqual(50_000_000);
    expect(client.pid).toBe(pid);
    // 64 KiB of stderr text per minute, plus the JSON framing of each log line.
    expect(bytes()).toBeLessThan(200_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40_000_000);
    const tail = client.lastStderrLines();
    expect(tail.length).toBeLessThanOrEqual(20);
    expect(tail.join('\n').length).toBeLessThan(20 * 510);
  });

  it('honours cwd', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'upstream-cwd-'));
    try {
      const client = fixture({}, {}, { cwd: folder });
      expect(textOf(await client.callTool('cwd'))).toBe(await realpath(folder));
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("passes the config's env and a safe default set, never the bridge's own settings", async () => {
    vi.stubEnv('MCP_BRIDGE_TEST_SETTING', 'bridge-only');
    vi.stubEnv('SOME_SERVICE_TOKEN', 'secret-of-the-bridge');
    try {
      const client = fixture({ FIXTURE_SETTING: 'from-config' });
      const env = JSON.parse(textOf(await client.callTool('env'))) as Record<string, string>;
      expect(env.FIXTURE_SETTING).toBe('from-config');
      expect(env.PATH).toBe(process.env.PATH);
      expect(env).not.toHaveProperty('MCP_BRIDGE_TEST_SETTING');
      expect(env).not.toHaveProperty('SOME_SERVICE_TOKEN');
      expect(Object.keys(env).some((key) => key.startsWith('MCP_BRIDGE_'))).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('close() ends the process, and the client refuses work afterwards', async () => {
    const client = fixture();
    await client.tools();
    const pid = client.pid;
    if (pid === undefined) throw new Error('no pid');
    const inFlight = rejection(client.callTool('slow', { ms: 30_000 }));
    await client.callTool('echo', { message: 'the slow call has been sent' });
    await client.close();
    expect(processIsAlive(pid)).toBe(false);
    expect((await inFlight).code).toBe('upstream_closed');
    expect((await rejection(client.callTool('echo', { message: 'x' }))).code).toBe(
      'upstream_closed',
    );
  });

  it('close() kills a server that ignores the end of stdin and SIGTERM', async () => {
    const client = fixture({ MISBEHAVE_STUBBORN: '1' });
    await client.tools();
    const pid = client.pid;
    if (pid === undefined) throw new Error('no pid');
    await client.close();
    expect(processIsAlive(pid)).toBe(false);
  });
});

describe('UpstreamClient with real MCP servers from npm', () => {
  it('server-everything: lists tools, echoes and adds', async () => {
    const client = new UpstreamClient(
      definition({ name: 'everything', args: [EVERYTHING, 'stdio'] }),
      recordingLogger().logger,
    );
    clients.push(client);
    const names = (await client.tools()).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-tiny-image']));
    expect(textOf(await client.callTool('echo', { message: 'hi' }))).toBe('Echo: hi');
    expect(textOf(await client.callTool('get-sum', { a: 2, b: 3 }))).toBe(
      'The sum of 2 and 3 is 5.',
    );
    const image = await client.callTool('get-tiny-image');
    expect(image.content.some((item) => item.type === 'image')).toBe(true);
    const pid = client.pid;
    if (pid === undefined) throw new Error('no pid');
    await client.close();
    expect(processIsAlive(pid)).toBe(false);
  });

  it('server-memory: creates an entity and reads the graph back', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'upstream-memory-'));
    try {
      const client = new UpstreamClient(
        definition({
          name: 'memory',
          args: [MEMORY],
          env: { MEMORY_FILE_PATH: path.join(folder, 'memory.jsonl') },
        }),
        recordingLogger().logger,
      );
      clients.push(client);
      expect((await client.tools()).map((tool) => tool.name)).toEqual(
        expect.arrayContaining(['create_entities', 'read_graph']),
      );
      const created = await client.callTool('create_entities', {
        entities: [
          { name: 'Ada', entityType: 'person', observations: ['wrote the first program'] },
        ],
      });
      expect(created.isError).toBeFalsy();
      const graph = textOf(await client.callTool('read_graph'));
      expect(graph).toContain('Ada');
      expect(graph).toContain('wrote the first program');
    } finally {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await rm(folder, { recursive: true, force: true });
    }
  });
});
