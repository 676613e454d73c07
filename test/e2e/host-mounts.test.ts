import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ReadResourceResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';
import { makeHostFolders, type HostFolders } from '../support/host-folders.js';

/**
 * Files in (MCP_BRIDGE_MOUNTS): the user's host folders in the sandbox, through the real
 * SDK client and the built bridge, on each engine (and under gVisor).
 */

describeEachEngineAndGvisor('host folders (MCP_BRIDGE_MOUNTS)', (engine) => {
  let bridge: BridgeHandle;
  let folders: HostFolders;

  beforeAll(async () => {
    folders = makeHostFolders();
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_MOUNTS: folders.variable },
    });
  });
  afterAll(async () => {
    await bridge?.close();
    folders?.remove();
  });

  it('reads a CSV with pandas from a read-only folder', async () => {
    const result = await bridge.run({
      code: [
        'import pandas as pd',
        "frame = pd.read_csv('/workspace/data/prices.csv')",
        "print(list(frame['item']), frame['price'].sum())",
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(payloadOf(result).stdout).toEqual(["['apple', 'pear', 'plum'] 4.5"]);
  });

  it('refuses a write to the read-only folder with a clear OSError, and goes on', async () => {
    const result = await bridge.run({
      code: [
        'import errno',
        'try:',
        "    open('/workspace/data/new.txt', 'w').write('x')",
        'except OSError as error:',
        '    print(type(error).__name__, errno.errorcode[error.errno], error.strerror)',
        'try:',
        "    open('/workspace/data/prices.csv', 'a').write('evil,0\\n')",
        'except OSError as error:',
        '    print(type(error).__name__, errno.errorcode[error.errno], error.strerror)',
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(payloadOf(result).stdout).toEqual([
      'OSError EROFS Read-only file system',
      'OSError EROFS Read-only file system',
    ]);
    expect(readdirSync(folders.data)).toEqual(['prices.csv']);
    expect(readFileSync(path.join(folders.data, 'prices.csv'), 'utf8')).not.toContain('evil');
    const next = await bridge.run({ code: 'print(6 * 7)' });
    expect(payloadOf(next).stdout).toEqual(['42']);
  });

  it('writes through the rw folder: the file appears on the host, owned by the sandbox uid', async () => {
    const result = await bridge.run({
      code: [
        'import pandas as pd',
        "frame = pd.read_csv('/workspace/data/prices.csv')",
        "frame[frame['price'] > 1].to_csv('/workspace/exports/dear.csv', index=False)",
        "print(open('/workspace/exports/dear.csv').read().splitlines())",
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const written = path.join(folders.exports, 'dear.csv');
    expect(existsSync(written)).toBe(true);
    expect(readFileSync(written, 'utf8')).toBe('item,price\napple,1.5\npear,2.25\n');
    // Rootful engine: the container's uid 65534 is the host's (README, "Files in").
    expect(statSync(written).uid).toBe(65534);
  });

  it('lists the folders in the manual the agent reads, in the sandbox and as the resource', async () => {
    const result = await bridge.run({
      code: 'from mcp import runtime\nprint(runtime.capability_summary())',
    });
    const manual = (payloadOf(result).stdout ?? []).join('\n');
    expect(manual).toContain('- `/workspace/data`: read-only');
    expect(manual).toContain('- `/workspace/exports`: read-write');
    expect(manual).not.toContain(folders.root);
    const resource = await bridge.client.request(
      {
        method: 'resources/read',
        params: { uri: 'resource://mcp-server-code-execution-mode/capabilities' },
      },
      ReadResourceResultSchema,
    );
    expect(JSON.stringify(resource.contents)).toContain('`/workspace/exports`: read-write');
  });
});
