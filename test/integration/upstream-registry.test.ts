import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../../src/config/servers-config.js';
import { UpstreamError } from '../../src/upstream/upstream-errors.js';
import { processIsAlive } from '../../src/util/process-alive.js';
import { UpstreamRegistry } from '../../src/upstream/upstream-registry.js';

const FIXTURE = path.resolve('test/fixtures/misbehaving-server.mjs');
const EVERYTHING = path.resolve(
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

function server(name: string, args: string[], env: Record<string, string> = {}): ServerDefinition {
  return {
    name,
    command: process.execPath,
    args,
    env,
    cwd: undefined,
    description: undefined,
    source: `${name}.json`,
  };
}

function recordingLogger(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        messages.push(String((JSON.parse(line) as { msg?: unknown }).msg));
      },
    },
  );
  return { logger, messages };
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  if (first?.type !== 'text')
    throw new Error(`expected text content, got ${JSON.stringify(result)}`);
  return first.text;
}

function pidOf(registry: UpstreamRegistry, name: string): number {
  const pid = registry.client(name).pid;
  if (pid === undefined) throw new Error(`${name} is not running`);
  return pid;
}

const registries: UpstreamRegistry[] = [];

function registry(definitions: ServerDefinition[], closeTimeoutMs?: number): UpstreamRegistry {
  const created = new UpstreamRegistry(definitions, recordingLogger().logger, {
    ...(closeTimeoutMs === undefined ? {} : { closeTimeoutMs }),
  });
  registries.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(registries.splice(0).map((item) => item.close()));
});

describe('UpstreamRegistry', () => {
  it('knows the configured names; the first definition of a name wins', () => {
    const first = server('beta', [FIXTURE]);
    const upstream = registry([first, server('alpha', [FIXTURE]), server('beta', ['other.js'])]);
    expect(upstream.names()).toEqual(['alpha', 'beta']);
    expect(upstream.has('alpha')).toBe(true);
    expect(upstream.definition('beta')).toBe(first);
  });

  it('refuses an unknown name with the configured names, closest first', async () => {
    const upstream = registry([
      server('github', [FIXTURE]),
      server('memory', [FIXTURE]),
      server('filesystem', [FIXTURE]),
    ]);
    const thrown = (() => {
      try {
        upstream.definition('memroy');
      } catch (error: unknown) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(UpstreamError);
    expect((thrown as UpstreamError).code).toBe('upstream_unknown_server');
    expect((thrown as UpstreamError).message).toBe(
      "Unknown MCP server 'memroy'. Configured servers: memory, github, filesystem.",
    );
    expect(() => upstream.client('nope')).toThrow(UpstreamError);
    await expect(upstream.tools('nope')).rejects.toMatchObject({ code: 'upstream_unknown_server' });
    await expect(upstream.callTool('nope', 'echo', {})).rejects.toMatchObject({
      code: 'upstream_unknown_server',
    });
  });

  it('creates each client lazily and keeps it', async () => {
    const upstream = registry([server('fixture', [FIXTURE])]);
    expect(upstream.isRunning('fixture')).toBe(false);
    const client = upstream.client('fixture');
    expect(upstream.client('fixture')).toBe(client);
    expect(upstream.isRunning('fixture')).toBe(false);
    await upstream.tools('fixture');
    expect(upstream.isRunning('fixture')).toBe(true);
  });

  it('serves several servers in one run, concurrently', async () => {
    const upstream = registry([
      server('fixture', [FIXTURE]),
      server('everything', [EVERYTHING, 'stdio']),
    ]);
    const [fixtureTools, everythingTools] = await Promise.all([
      upstream.tools('fixture'),
      upstream.tools('everything'),
    ]);
    expect(fixtureTools.map((tool) => tool.name)).toContain('echo');
    expect(everythingTools.map((tool) => tool.name)).toContain('get-sum');
    const results = await Promise.all([
      upstream.callTool('fixture', 'echo', { message: 'one' }),
      upstream.callTool('everything', 'echo', { message: 'two' }),
      upstream.callTool('everything', 'get-sum', { a: 20, b: 22 }),
    ]);
    expect(results.map(textOf)).toEqual(['one', 'Echo: two', 'The sum of 20 and 22 is 42.']);
  });

  it('close() stops every started server, including one that ignores SIGTERM', async () => {
    const upstream = registry([
      server('plain', [FIXTURE]),
      server('stubborn', [FIXTURE], { MISBEHAVE_STUBBORN: '1' }),
      server('everything', [EVERYTHING, 'stdio']),
      server('never-used', [FIXTURE]),
    ]);
    await Promise.all(['plain', 'stubborn', 'everything'].map((name) => upstream.tools(name)));
    const pids = ['plain', 'stubborn', 'everything'].map((name) => pidOf(upstream, name));
    await upstream.close();
    for (const pid of pids) expect(processIsAlive(pid)).toBe(false);
    expect(() => upstream.client('plain')).toThrow(/the bridge is stopping/);
  });

  it('close() returns after closeTimeoutMs even if a server is still stopping', async () => {
    const { logger, messages } = recordingLogger();
    const upstream = new UpstreamRegistry(
      [server('stubborn', [FIXTURE], { MISBEHAVE_STUBBORN: '1' })],
      logger,
      { closeTimeoutMs: 100 },
    );
    registries.push(upstream);
    await upstream.tools('stubborn');
    const pid = pidOf(upstream, 'stubborn');
    await upstream.close();
    expect(messages).toContain('MCP servers still stopping when the bridge closed');
    // The escalation to SIGKILL goes on in the background.
    await vi.waitFor(() => expect(processIsAlive(pid)).toBe(false), { timeout: 10_000 });
  });
});
