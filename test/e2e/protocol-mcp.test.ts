import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode } from '@toon-format/toon';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  resultText,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/** The MCP face of the bridge: tools/list, resources, argument checks, both output modes. */

const CAPABILITIES_URI = 'resource://mcp-server-code-execution-mode/capabilities';

describeEachEngine('MCP protocol, compact mode', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_TIMEOUT: '3', MCP_BRIDGE_MAX_TIMEOUT: '3' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  async function expectStillWorks(): Promise<void> {
    const next = await bridge.run({ code: 'print("still works")' });
    expect(resultText(next), describeResult(next)).toBe('still works');
  }

  it('lists exactly one tool, run_python, in under 1000 characters', async () => {
    const { tools } = await bridge.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['run_python']);
    expect(tools[0]?.inputSchema.required).toEqual(['code']);
    expect(JSON.stringify({ tools }).length).toBeLessThan(1000);
  });

  it('lists the capabilities resource and serves it', async () => {
    const { resources } = await bridge.client.listResources();
    expect(resources.map((resource) => resource.uri)).toContain(CAPABILITIES_URI);
    const read = await bridge.client.readResource({ uri: CAPABILITIES_URI });
    const content = read.contents[0];
    expect(content).toMatchObject({ uri: CAPABILITIES_URI, mimeType: 'text/markdown' });
    const text = content && 'text' in content ? content.text : '';
    expect(text).toMatch(/run_python/);
    expect(text).toMatch(/variables, imports and functions/);
  });

  const invalidArguments: [string, Record<string, unknown>, string][] = [
    ['code missing', {}, "Missing 'code' argument"],
    ['code empty', { code: '   ' }, "Missing 'code' argument"],
    ['servers not a list', { code: 'print(1)', servers: 'fs' }, "'servers' must be a list"],
    ['timeout a fraction', { code: 'print(1)', timeout: 2.5 }, "'timeout' must be an integer"],
    ['timeout a string', { code: 'print(1)', timeout: '5' }, "'timeout' must be an integer"],
  ];
  for (const [label, args, message] of invalidArguments) {
    it(`refuses ${label} with "${message}", then works`, async () => {
      const refused = await bridge.run(args);
      expect(refused.isError).toBe(true);
      expect(payloadOf(refused)).toEqual({
        status: 'validation_error',
        summary: message,
        error: message,
      });
      expect(resultText(refused)).toBe(`status: validation_error\nerror: ${message}`);
      await expectStillWorks();
    });
  }

  it('refuses an unknown server by name, then works', async () => {
    const refused = await bridge.run({ code: 'print(1)', servers: ['nosuch'] });
    expect(refused.isError).toBe(true);
    expect(payloadOf(refused).status).toBe('validation_error');
    expect(payloadOf(refused).error).toMatch(
      /^Unknown server: nosuch\. No MCP servers are configured/,
    );
    await expectStillWorks();
  });

  it('answers an unknown tool with status error, then works', async () => {
    const result = CallToolResultSchema.parse(
      await bridge.client.callTool({ name: 'run_ruby', arguments: { code: 'puts 1' } }),
    );
    expect(result.isError).toBe(true);
    expect(payloadOf(result)).toMatchObject({
      status: 'error',
      summary: 'Unknown tool: run_ruby',
    });
    await expectStillWorks();
  });

  it('clamps a timeout above MCP_BRIDGE_MAX_TIMEOUT to the maximum', async () => {
    const started = Date.now();
    const result = await bridge.run({ code: 'import time\ntime.sleep(20)', timeout: 100 });
    expect(payloadOf(result)).toMatchObject({
      status: 'timeout',
      summary: 'Timeout: execution exceeded 3s',
      timeoutSeconds: 3,
    });
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('renders compact text: stdout lines, then stderr, blank and () lines dropped', async () => {
    const result = await bridge.run({
      code: 'import sys\nprint("one")\nprint("   ")\nprint(())\nprint("two")\nprint("warn", file=sys.stderr)',
    });
    expect(result.isError).toBe(false);
    expect(resultText(result)).toBe('one\ntwo\nstderr:\nwarn');
    expect(result.structuredContent).toEqual({ stdout: ['one', 'two'], stderr: ['warn'] });

    const silent = await bridge.run({ code: 'quiet = 1' });
    expect(resultText(silent)).toBe('Success (no output)');
    expect(silent.structuredContent).toEqual({ summary: 'Success (no output)' });
  });
});

describeEachEngine('MCP protocol, TOON mode', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_OUTPUT_MODE: 'toon' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  function decodedToon(text: string): unknown {
    const match = /^```toon\n([\s\S]*)\n```$/.exec(text);
    if (!match?.[1]) throw new Error(`not a toon block: ${text}`);
    return decode(match[1]);
  }

  it('returns a ```toon block that decodes to exactly structuredContent', async () => {
    const success = await bridge.run({ code: 'print("line1")\nprint("line2: a, b")' });
    expect(success.structuredContent).toEqual({
      status: 'success',
      summary: 'Success',
      exitCode: 0,
      stdout: ['line1', 'line2: a, b'],
    });
    expect(decodedToon(resultText(success))).toEqual(success.structuredContent);

    const failure = await bridge.run({ code: 'print("before")\nraise ValueError("bad, [value]")' });
    expect(statusOf(failure)).toBe('error');
    expect(payloadOf(failure).stderr?.at(-1)).toBe('ValueError: bad, [value]');
    expect(decodedToon(resultText(failure))).toEqual(failure.structuredContent);
  });

  it('encodes validation errors the same way', async () => {
    const refused = await bridge.run({ code: 'print(1)', timeout: 'soon' });
    const message = "'timeout' must be an integer";
    expect(refused.structuredContent).toEqual({
      status: 'validation_error',
      summary: message,
      error: message,
    });
    expect(decodedToon(resultText(refused))).toEqual(refused.structuredContent);
  });
});

/**
 * "No engine at all": a private mount namespace hides every engine socket under /run
 * (and /var/run, its symlink), HOME is empty and PATH has no podman to start.
 */
const UNSHARE = '/usr/bin/unshare';
const HIDE_ENGINES = [
  UNSHARE,
  '--mount',
  '--',
  '/bin/sh',
  '-c',
  '/bin/mount -t tmpfs tmpfs /run && exec "$@"',
  'sh',
];
const canHideEngines =
  spawnSync(HIDE_ENGINES[0] ?? '', [...HIDE_ENGINES.slice(1), '/bin/true']).status === 0;

describe('MCP protocol without any container engine', () => {
  it('answers tools/list, and run_python explains what to install', async (context) => {
    if (!canHideEngines) {
      const reason = `cannot hide the engines here (${UNSHARE} --mount needs root)`;
      if (!process.env.CI) {
        console.warn(`SKIPPED: ${reason}`);
        context.skip();
      }
      throw new Error(reason);
    }
    const empty = mkdtempSync(path.join(os.tmpdir(), 'mcp-no-engine-'));
    const bridge = await startBridge({
      dockerHost: 'unix:///nonexistent/docker.sock',
      launcher: HIDE_ENGINES,
      // No engine address set (empty is unset): the bridge looks for one and finds none.
      env: { PATH: empty, HOME: empty, MCP_BRIDGE_RUNTIME: 'auto', DOCKER_HOST: '' },
    });
    try {
      const { tools } = await bridge.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['run_python']);

      const result = await bridge.run({ code: 'print(1)' }, 30_000);
      const payload = payloadOf(result);
      expect(result.isError).toBe(true);
      expect(payload.status).toBe('error');
      expect(payload.summary).toMatch(/^Sandbox error: No container engine is reachable/);
      expect(payload.error).toMatch(/install Podman/);
      expect(payload.error).toMatch(/Docker/);
      expect(payload.error).toMatch(/DOCKER_HOST/);
    } finally {
      await bridge.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
