import { readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { sandboxError } from '../support/fault-scene.js';
import { mountTinyDisk, type TinyDisk } from '../support/tiny-disk.js';

/**
 * A full disk under MCP_BRIDGE_STATE_DIR (a 1 MiB tmpfs of the test's own): run_python
 * keeps answering, the history write that fails is said to have failed, nothing on disk is
 * left corrupt or half written, and once there is room again the bridge, and the next one,
 * carry on with what was saved before.
 */

describeEachEngine('a full disk in the state dir', (engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function bridgeOn(disk: TinyDisk): Promise<BridgeHandle> {
    const bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir: disk.dir });
    cleanups.push(() => bridge.close());
    return bridge;
  }

  function tinyDisk(): TinyDisk {
    const disk = mountTinyDisk();
    cleanups.push(() => disk.remove());
    return disk;
  }

  /** Files a failed write would leave: temp files of atomic writes. */
  const leftoverTemps = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tmp'));

  it('answers while the history cannot be written, says so, and corrupts nothing', async () => {
    const disk = tinyDisk();
    const bridge = await bridgeOn(disk);
    const before = await bridge.run({
      code: 'x = 41\ndef kept():\n    return "saved before the disk filled"\nprint(save_tool(kept))',
    });
    expect(payloadOf(before).stdout, describeResult(before)).toEqual(['kept']);

    disk.fill();
    const full = await bridge.run({ code: 'x += 1\nprint("while full", x)' });
    expect(statusOf(full), describeResult(full)).toBe('success');
    expect(payloadOf(full).stdout).toEqual(['while full 42']);
    const notice = payloadOf(full).notices?.join('\n') ?? '';
    expect(notice, describeResult(full)).toMatch(/could not record this execution/);
    expect(notice).toMatch(/disk is full/);
    expect(notice).toContain('MCP_BRIDGE_STATE_DIR');
    expect(bridge.stderr()).toMatch(/history: could not record an execution/);

    // A state write from the sandbox fails in the cell, clearly, leaving no half file.
    const save = await bridge.run({
      code: 'def lost():\n    return 1\nsave_tool(lost)',
    });
    expect(statusOf(save), describeResult(save)).toBe('error');
    expect(payloadOf(save).summary).toMatch(/MCPError: could not save the tool 'lost'/);
    expect(payloadOf(save).summary).toMatch(/no space left on device/i);
    expect(leftoverTemps(disk.dir)).toEqual([]);

    disk.free();
    const after = await bridge.run({ code: 'print("after", x)' });
    expect(payloadOf(after).stdout, describeResult(after)).toEqual(['after 42']);
    expect(payloadOf(after).notices ?? []).toEqual([]);
    await bridge.close();

    // The history holds exactly what was written before and after the disk was full.
    const database = new Database(path.join(disk.dir, 'history.sqlite3'), { readonly: true });
    try {
      expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
      const codes = database
        .prepare('SELECT code FROM executions ORDER BY rowid DESC')
        .pluck()
        .all() as string[];
      expect(codes).toEqual(['print("after", x)', expect.stringMatching(/^x = 41/)]);
    } finally {
      database.close();
    }
    // The next bridge loads the tool saved before, not the one the full disk refused.
    const next = await bridgeOn(disk);
    const read = await next.run({
      code: 'import json\nprint("TOOLS " + json.dumps([kept(), "lost" in globals()]))',
    });
    expect(statusOf(read), describeResult(read)).toBe('success');
    expect(printedJson(read, 'TOOLS ')).toEqual(['saved before the disk filled', false]);
  });

  it('full from the start: a clear error where a state file is needed, never a hang; runs once there is room', async () => {
    const disk = tinyDisk();
    disk.fill();
    const bridge = await bridgeOn(disk);
    if (engine.name === 'podman') {
      // Podman's API takes the seccomp profile only as a file under the state dir.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const refused = await bridge.run({ code: 'print("hello")' });
        const error = sandboxError(refused);
        expect(error).toMatch(/Could not write the seccomp profile Podman needs/);
        expect(error).toContain(path.join(disk.dir, 'runtime'));
        expect(error).toMatch(/no space left on device/i);
        expect(error).toContain('MCP_BRIDGE_STATE_DIR');
      }
      expect(leftoverTemps(disk.dir)).toEqual([]);
      disk.free();
    }
    // Docker takes the profile inline: nothing to write, the call runs on a full disk.
    const ran = await bridge.run({ code: 'print("hello")' });
    expect(payloadOf(ran).stdout, describeResult(ran)).toEqual(['hello']);
  });
});
