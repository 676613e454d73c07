import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { sandboxBlueprint, sandboxData } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { dockerClient } from '../../src/container/docker-client.js';
import { loadSandboxSources } from '../../src/session/boot-modules.js';
import { LiveSandbox, type SandboxBlueprint } from '../../src/session/live-sandbox.js';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine, testImage } from '../support/engines.js';

/** What user code can see of the lane from inside the sandbox. */
const LOOK_AT_LANE = String.raw`
import errno, json, os, socket
lane = "/run/mcp-bridge"
seen = {"mounted": os.path.isdir(lane)}
try:
    seen["entries"] = sorted(os.listdir(lane))
except OSError as e:
    seen["entries"] = errno.errorcode.get(e.errno, str(e.errno))
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    if fields[4] == lane:
        seen["options"] = fields[5].split(",")
try:
    open(lane + "/x", "w")
    seen["write"] = "ok"
except OSError as e:
    seen["write"] = errno.errorcode.get(e.errno, str(e.errno))
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(lane + "/channel.sock")
    seen["connect"] = "ok"
except OSError as e:
    seen["connect"] = errno.errorcode.get(e.errno, str(e.errno))
print("JSON " + json.dumps(seen))
`;

interface LaneView {
  mounted: boolean;
  entries: string[] | string;
  options?: string[];
  write?: string;
  connect?: string;
}

const logger = pino({ level: 'silent' });

describeEachEngine('socket lane', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const bridge = async (env: Record<string, string> = {}): Promise<BridgeHandle> => {
    const handle = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_LOG_LEVEL: 'info', ...env },
    });
    cleanups.push(() => handle.close());
    return handle;
  };

  it('carries the frames by default; user code finds an empty read-only folder', async () => {
    const handle = await bridge();
    const result = await handle.run({ code: LOOK_AT_LANE });
    expect(handle.stderr()).toMatch(/"channel":"socket".*"msg":"sandbox started"/);
    const seen = printedJson<LaneView>(result);
    // The folder cannot be listed, and the socket was unlinked as soon as the runner
    // connected: nobody else can.
    expect(seen).toMatchObject({ mounted: true, entries: 'EACCES', connect: 'ENOENT' });
    expect(seen.options).toContain('ro');
    expect(['EROFS', 'EACCES']).toContain(seen.write);
    // And the session works through it: state, output, errors.
    await handle.run({ code: 'x = 20' });
    const next = await handle.run({ code: 'print(x * 2 + 2)\nraise ValueError("boom")' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['42']);
    expect(describeResult(next)).toMatch(/ValueError: boom/);
  });

  it('is not offered with MCP_BRIDGE_CHANNEL=stdio, and nothing is mounted', async () => {
    const handle = await bridge({ MCP_BRIDGE_CHANNEL: 'stdio' });
    const result = await handle.run({ code: LOOK_AT_LANE });
    expect(handle.stderr()).toMatch(/"channel":"stdio".*"msg":"sandbox started"/);
    expect(printedJson<LaneView>(result)).toMatchObject({ mounted: false });
  });

  it('falls back to stdin/stdout when the engine refuses the mount or the socket is out of reach', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'lane-e2e-'));
    cleanups.push(() => Promise.resolve(rmSync(stateDir, { recursive: true, force: true })));
    const config = loadConfig({
      DOCKER_HOST: engine.dockerHost,
      MCP_BRIDGE_IMAGE: testImage(),
      MCP_BRIDGE_STATE_DIR: stateDir,
    });
    const real = sandboxBlueprint(config, engine.name, engine.dockerHost);
    const withLaneMount = (
      change: (mount: Dockerode.MountSettings) => Dockerode.MountSettings,
    ): SandboxBlueprint => ({
      ...real,
      createOptions: (command, laneDir) => {
        const options = real.createOptions(command, laneDir);
        const mounts = options.HostConfig?.Mounts ?? [];
        if (options.HostConfig) options.HostConfig.Mounts = mounts.map(change);
        return options;
      },
    });
    const blueprints = {
      // As an engine in a VM: the folder does not exist where the engine looks. (Under a
      // file, so that no engine can create it, as some do for a missing bind source.)
      refused: withLaneMount((mount) =>
        mount.Type === 'bind' ? { ...mount, Source: '/etc/hostname/mcp-bridge-lane' } : mount,
      ),
      // Accepted at create, refused when the runtime sets the container up.
      failsAtStart: withLaneMount((mount) =>
        mount.Type === 'bind' ? { ...mount, Target: '/proc/mcp-bridge' } : mount,
      ),
      // Mounted, but the socket is not where the sandbox was told (as under SELinux denial).
      unreachable: withLaneMount((mount) =>
        mount.Type === 'bind' ? { ...mount, Target: '/run/elsewhere' } : mount,
      ),
    };
    /** Starts a sandbox, runs one cell, and says which channel it took. */
    const channelOf = async (docker: Dockerode, blueprint: SandboxBlueprint, name: string) => {
      const sandbox = await LiveSandbox.start({
        docker,
        blueprint,
        sources: loadSandboxSources(sandboxData()),
        logger,
        interruptGraceMs: 2000,
        onDeath: () => undefined,
      });
      try {
        const result = await sandbox.execute({
          code: 'print(6 * 7)',
          timeoutMs: 10_000,
          maxOutputChars: 4096,
        });
        expect(result, name).toMatchObject({ outcome: 'completed', stdout: '42\n' });
        return sandbox.channel;
      } finally {
        await sandbox.destroy();
      }
    };
    // A client per case: an engine that refused the mount is not asked again.
    const clients = new Map<string, Dockerode>();
    for (const [name, blueprint] of Object.entries(blueprints)) {
      const docker = dockerClient(engine.dockerHost);
      clients.set(name, docker);
      expect(await channelOf(docker, blueprint, name), name).toBe('stdio');
    }
    const refusedBefore = clients.get('refused');
    expect(refusedBefore).toBeDefined();
    if (refusedBefore) expect(await channelOf(refusedBefore, real, 'again')).toBe('stdio');
    const unreachableBefore = clients.get('unreachable');
    if (unreachableBefore) expect(await channelOf(unreachableBefore, real, 'next')).toBe('socket');
    // Every lane folder of this process is gone once its sandbox is.
    const mine = readdirSync(os.tmpdir()).filter((entry) =>
      entry.startsWith(`mcp-bridge-lane-${process.pid}-`),
    );
    expect(mine).toEqual([]);
  });
});
