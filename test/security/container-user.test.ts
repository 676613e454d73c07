import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BRIDGE_BIN } from '../support/bridge-client.js';
import { testImage } from '../support/engines.js';

/**
 * The sandbox never runs as root nor in root's group: MCP_BRIDGE_CONTAINER_USER with
 * uid 0 or gid 0 (in any spelling) stops the bridge at startup, before any engine or
 * container is touched, with an error naming the variable. (Group 0 owns files root
 * means to share with admins only; a process in it may read or write them.)
 */

interface Finished {
  code: number | null;
  stderr: string;
}

/** Starts the built bridge with `command` and `user`; resolves when it exits (20 s max). */
function startWithUser(command: 'run' | 'doctor', user: string): Promise<Finished> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'container-user-'));
  const child = spawn(process.execPath, [BRIDGE_BIN, command], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      DOCKER_HOST: process.env.MCP_BRIDGE_TEST_PODMAN_HOST ?? 'unix:///run/podman/podman.sock',
      MCP_BRIDGE_IMAGE: testImage(),
      MCP_BRIDGE_STATE_DIR: stateDir,
      MCP_BRIDGE_LOG_LEVEL: 'info',
      MCP_BRIDGE_CONTAINER_USER: user,
    },
    // stdin stays open: a bridge that accepted the setting keeps serving.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout.resume();
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      rmSync(stateDir, { recursive: true, force: true });
      resolve({ code: signal === 'SIGKILL' ? null : code, stderr });
    }),
  );
}

describe("MCP_BRIDGE_CONTAINER_USER as root or in root's group", () => {
  it.each(['65534:0', '1000:00', '1000:root', '0:65534'])(
    '%s stops startup with an error naming the variable',
    async (user) => {
      const finished = await startWithUser('run', user);
      expect(finished.code, `still serving after 20 s; stderr:\n${finished.stderr}`).toBe(2);
      expect(finished.stderr).toContain('MCP_BRIDGE_CONTAINER_USER');
      expect(finished.stderr).toMatch(/root|numeric/);
    },
  );

  it('doctor refuses it the same way', async () => {
    const finished = await startWithUser('doctor', '65534:0');
    expect(finished.code, finished.stderr).toBe(2);
    expect(finished.stderr).toContain('MCP_BRIDGE_CONTAINER_USER');
    expect(finished.stderr).toContain('gid 0');
  });
});
