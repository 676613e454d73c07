import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import { GVISOR_KERNEL_VERSION } from '../../src/container/expected-facts.js';
import {
  BRIDGE_BIN,
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor, testImage, type TestEngine } from '../support/engines.js';

/**
 * MCP_BRIDGE_OCI_RUNTIME=runsc end to end. On the gVisor engine the sandbox runs under
 * gVisor and doctor says so. On an engine that runs runc the bridge runs no code at all
 * and says why (Podman ignores the runtime a Docker-API client asks for; a Docker engine
 * without runsc refuses the container), and doctor says whether gVisor is available.
 */

interface Doctor {
  code: number | null;
  stdout: string;
}

/** `doctor` as a user runs it, against this engine. */
function doctor(engine: TestEngine, env: Record<string, string>): Promise<Doctor> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-doctor-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BRIDGE_BIN, 'doctor'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          DOCKER_HOST: engine.dockerHost,
          MCP_BRIDGE_IMAGE: testImage(),
          MCP_BRIDGE_STATE_DIR: stateDir,
          MCP_BRIDGE_LOG_LEVEL: 'error',
          ...env,
        },
        timeout: 120_000,
      },
      (error, stdout) => {
        rmSync(stateDir, { recursive: true, force: true });
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout });
      },
    );
  });
}

describeEachEngineAndGvisor('MCP_BRIDGE_OCI_RUNTIME=runsc', (engine) => {
  /** Whether this engine runs runsc: the gVisor engine, or a Docker with runsc registered. */
  let runsGvisor = engine.ociRuntime === 'runsc';

  beforeAll(async () => {
    if (runsGvisor || engine.name !== 'docker') return;
    const info = (await dockerClient(engine.dockerHost).info()) as { Runtimes?: object };
    runsGvisor = 'runsc' in (info.Runtimes ?? {});
  });

  it('runs code under gVisor, or runs none and says why', async () => {
    const bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_OCI_RUNTIME: 'runsc' },
    });
    try {
      const code = 'import os\nprint(os.uname().version)';
      const first = await bridge.run({ code });
      if (runsGvisor) {
        expect(statusOf(first), describeResult(first)).toBe('success');
        expect(payloadOf(first).stdout).toEqual([GVISOR_KERNEL_VERSION]);
        return;
      }
      expect(statusOf(first)).toBe('error');
      const why =
        engine.name === 'podman'
          ? /does not run under gVisor \(its kernel is "[^"]+"\).*Podman ignores the runtime/
          : /Unknown runtime specified runsc\. MCP_BRIDGE_OCI_RUNTIME=runsc needs the engine to have that runtime/;
      expect(payloadOf(first).error, describeResult(first)).toMatch(why);
      expect(payloadOf(first).stdout ?? []).toEqual([]);
      // Every call is refused alike: no sandbox on the wrong runtime ever runs code.
      const second = await bridge.run({ code });
      expect(statusOf(second)).toBe('error');
      expect(payloadOf(second).error).toMatch(why);
    } finally {
      await bridge.close();
    }
  });

  it('doctor says whether gVisor is there, and checks the sandbox under it when asked', async () => {
    if (engine.ociRuntime === 'runsc') {
      const run = await doctor(engine, { MCP_BRIDGE_OCI_RUNTIME: 'runsc' });
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/^✓ hardened sandbox started .*seccomp mode 2, no_new_privs 1/m);
      expect(run.stdout).toMatch(/^✓ gVisor: the sandbox runs under runsc \(kernel [^)]+\)$/m);
      expect(run.stdout).toMatch(/channel: .*the socket lane is not offered under gVisor/);
      expect(run.stdout).toMatch(/^All checks passed\.$/m);
      return;
    }
    const plain = await doctor(engine, {});
    expect(plain.code, plain.stdout).toBe(0);
    expect(plain.stdout).toMatch(
      runsGvisor
        ? /^✓ gVisor: available: a hardened sandbox ran under runsc .*MCP_BRIDGE_OCI_RUNTIME=runsc/m
        : /^ {2}gVisor: not available: \S.*README, "gVisor \(optional\)"/m,
    );
    if (runsGvisor) return;
    const asked = await doctor(engine, { MCP_BRIDGE_OCI_RUNTIME: 'runsc' });
    expect(asked.code, asked.stdout).toBe(1);
    expect(asked.stdout).toMatch(/^✗ hardened sandbox: /m);
    expect(asked.stdout).toMatch(/README, "gVisor \(optional\)"/);
    expect(asked.stdout).not.toMatch(/All checks passed/);
  });
});
