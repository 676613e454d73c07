import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  BRIDGE_BIN,
  containersOwnedBy,
  describeResult,
  payloadOf,
  startBridge,
  startBridgeProcess,
  type ProcessExit,
} from '../support/bridge-client.js';
import { describeEachEngine, testImage } from '../support/engines.js';

/** Start-up and shutdown of the bridge process, its containers, and the `doctor` command. */

interface BinRun extends ProcessExit {
  stdout: string;
  stderr: string;
}

/** Runs the built bin directly (no MCP client) with only the given environment. */
function runBin(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<BinRun> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-bin-'));
  const child = spawn(process.execPath, [BRIDGE_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MCP_BRIDGE_STATE_DIR: stateDir, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(stateDir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** Resolves with the exit, or with 'still running' after `ms`. */
function exitWithin(
  exit: Promise<ProcessExit>,
  ms: number,
): Promise<ProcessExit | 'still running'> {
  return Promise.race([
    exit,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms)),
  ]);
}

describe('bridge configuration', () => {
  it('refuses to start on an invalid variable, naming it', async () => {
    const result = await runBin(['run'], { MCP_BRIDGE_MEMORY: 'lots' }, 20_000);
    expect(result.code).not.toBe(0);
    expect(result.signal).toBeNull();
    expect(result.stderr).toMatch(/MCP_BRIDGE_MEMORY: must be a size/);
    expect(result.stdout).toBe(''); // nothing an MCP client could take for a message
  });
});

describeEachEngine('bridge lifecycle', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  async function bridgeWithSandbox() {
    const bridge = await startBridgeProcess({ dockerHost: engine.dockerHost });
    cleanups.push(() => bridge.close());
    const warm = await bridge.run({ code: 'print("up")' });
    expect(payloadOf(warm).stdout, describeResult(warm)).toEqual(['up']);
    const containers = await containersOwnedBy(docker, bridge.pid);
    expect(containers.map((container) => container.State)).toEqual(['running']);
    return bridge;
  }

  it('removes its container and exits 0 when the client closes stdin', async () => {
    const bridge = await bridgeWithSandbox();
    const started = Date.now();
    await bridge.client.close(); // our transport only ends the bridge's stdin
    expect(await exitWithin(bridge.exit, 5000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await containersOwnedBy(docker, bridge.pid)).toEqual([]);
  });

  it('removes its container and exits 0 on SIGTERM', async () => {
    const bridge = await bridgeWithSandbox();
    process.kill(bridge.pid, 'SIGTERM');
    expect(await exitWithin(bridge.exit, 5000)).toEqual({ code: 0, signal: null });
    expect(await containersOwnedBy(docker, bridge.pid)).toEqual([]);
  });

  it("removes a killed bridge's leftover container at the next start", async () => {
    const crashed = await bridgeWithSandbox();
    const [leftover] = await containersOwnedBy(docker, crashed.pid);
    process.kill(crashed.pid, 'SIGKILL');
    expect(await exitWithin(crashed.exit, 5000)).toEqual({ code: null, signal: 'SIGKILL' });
    // Nobody cleaned up: the container is still there (stopped on Podman, running on Docker).
    expect((await containersOwnedBy(docker, crashed.pid)).map((c) => c.Id)).toEqual([leftover?.Id]);
    cleanups.push(() => docker.getContainer(leftover?.Id ?? '').remove({ force: true }));

    const next = await startBridge({ dockerHost: engine.dockerHost });
    cleanups.push(() => next.close());
    const result = await next.run({ code: 'print("fresh bridge")' });
    expect(payloadOf(result).stdout, describeResult(result)).toEqual(['fresh bridge']);
    expect(await containersOwnedBy(docker, crashed.pid)).toEqual([]);
  });

  it('doctor passes on a working engine', async () => {
    const result = await runBin(['doctor'], {
      DOCKER_HOST: engine.dockerHost,
      MCP_BRIDGE_RUNTIME: engine.name,
      MCP_BRIDGE_IMAGE: testImage(),
      MCP_BRIDGE_LOG_LEVEL: 'error',
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^✓ engine: ${engine.name} `, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^✓ image: ${testImage()} is present`, 'm'));
    expect(result.stdout).toMatch(/^✓ package store: volume \S+$/m);
    expect(result.stdout).toMatch(/^✓ hardened sandbox started .*uid 65534, seccomp mode 2/m);
    expect(result.stdout).toMatch(/^✓ hello world ran/m);
    expect(result.stdout).toMatch(/^✓ channel: frames take the socket lane$/m);
    expect(result.stdout).toMatch(/^All checks passed\.$/m);
    expect(result.stdout).not.toMatch(/✗/);
  });

  it('doctor fails on a missing image and prints the fix', async () => {
    const image = 'localhost/does-not-exist:1';
    const result = await runBin(['doctor'], {
      DOCKER_HOST: engine.dockerHost,
      MCP_BRIDGE_RUNTIME: engine.name,
      MCP_BRIDGE_IMAGE: image,
      MCP_BRIDGE_LOG_LEVEL: 'error',
    });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^✓ engine: /m);
    expect(result.stdout).toContain(`✗ image: ${image} is not present.`);
    expect(result.stdout).toContain(`fix: ${engine.name} pull ${image}`);
    expect(result.stdout).toContain('MCP_BRIDGE_IMAGE');
    expect(result.stdout).not.toMatch(/All checks passed/);
  });
});
