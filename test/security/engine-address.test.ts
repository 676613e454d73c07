import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineCandidates } from '../../src/container/engine-candidates.js';
import { pingEngine } from '../../src/container/engine-ping.js';
import {
  BRIDGE_BIN,
  describeResult,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { testImage } from '../support/engines.js';

/**
 * An engine address the user set (DOCKER_HOST, else CONTAINER_HOST) is the only one the
 * bridge uses, as with the Docker CLI: when nothing answers there, run_python and doctor
 * say so, naming the variable and the address, and never fall back to another engine
 * (a user who pointed the bridge at rootless Podman must not land on rootful Docker).
 */

const NOWHERE = 'unix:///nonexistent.sock';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bridge's `doctor` with `env` to its end (or a 90 s deadline). */
function doctor(env: Record<string, string>): Promise<Finished> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'engine-address-doctor-'));
  const child = spawn(process.execPath, [BRIDGE_BIN, 'doctor'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      MCP_BRIDGE_IMAGE: testImage(),
      MCP_BRIDGE_STATE_DIR: stateDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(deadline);
      rmSync(stateDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The well-known engine sockets that answer on this machine (the fallback we must not take). */
async function reachableWellKnownEngines(): Promise<string[]> {
  const candidates = engineCandidates({
    runtime: 'auto',
    env: {},
    home: os.homedir(),
    uid: os.userInfo().uid,
  });
  const answers = await Promise.all(
    candidates.map((candidate) =>
      pingEngine(candidate.dockerHost, 3000).then(
        () => candidate.dockerHost,
        () => undefined,
      ),
    ),
  );
  return answers.filter((host): host is string => host !== undefined);
}

describe('an engine address the user set is the only one used', () => {
  beforeAll(async () => {
    // Without an engine at a well-known place, "no fallback" would prove nothing.
    expect(await reachableWellKnownEngines()).not.toEqual([]);
  });

  describe.each([
    ['DOCKER_HOST', { DOCKER_HOST: NOWHERE }],
    ['CONTAINER_HOST', { DOCKER_HOST: '', CONTAINER_HOST: NOWHERE }],
  ] as const)('%s unreachable', (variable, env) => {
    let bridge: BridgeHandle;
    beforeAll(async () => {
      bridge = await startBridge({ dockerHost: NOWHERE, env: { ...env } });
    });
    afterAll(async () => {
      await bridge?.close();
    });

    it('run_python fails naming the variable and the address, and so does the next call', async () => {
      for (let call = 0; call < 2; call++) {
        const result = await bridge.run({ code: 'print("ran on some engine")' });
        const told = describeResult(result);
        expect(statusOf(result), told).toBe('error');
        expect(told).not.toContain('ran on some engine');
        expect(told).toContain(`${variable}=${NOWHERE}`);
      }
    });
  });

  it('doctor says the same and exits non-zero', async () => {
    const finished = await doctor({ DOCKER_HOST: NOWHERE });
    expect(finished.stdout, finished.stderr).toContain(`✗ engine: `);
    expect(finished.stdout).toContain(`DOCKER_HOST=${NOWHERE}`);
    expect(finished.stdout).not.toContain('✓ engine');
    expect(finished.code).toBe(1);
  });
});
