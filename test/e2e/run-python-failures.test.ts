import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { faultScene, type FaultScene } from '../support/fault-scene.js';

/**
 * The sandbox disappearing under the bridge: killed or removed from outside, or stopped
 * for idling. The agent is told, and the next call gets a fresh sandbox.
 */

const STATE_PROBE = 'print("marker" in globals() and marker)';

describeEachEngine('run_python when the sandbox goes away', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let bridge: BridgeHandle;
  // The fixture server marks the moment a call is in flight (no sleeping on it).
  let scene: FaultScene;

  /** The bridge's one sandbox container, running. */
  async function runningSandbox(owner: BridgeHandle): Promise<string> {
    const containers = await containersOwnedBy(docker, owner.pid);
    const running = containers.filter((container) => container.State === 'running');
    expect(running, JSON.stringify(containers)).toHaveLength(1);
    return running[0]?.Id ?? '';
  }

  beforeAll(async () => {
    scene = faultScene();
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir: scene.stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    scene?.remove();
  });

  /** How often the bridge has logged a sandbox's end by itself. */
  const sandboxEnds = (): number => bridge.stderr().split('"msg":"sandbox ended"').length - 1;

  it('reports a container killed during a call as lost state; the next call runs fresh', async () => {
    await bridge.run({ code: 'marker = "before the kill"' });
    const id = await runningSandbox(bridge);
    const sleeping = bridge.run({
      code: [
        'await mcp_fixture.mark(name="sleeping")',
        'import time',
        'print("sleeping", flush=True)',
        'time.sleep(20)',
      ].join('\n'),
      servers: ['fixture'],
    });
    // Kill only once the cell is running (the sleep is the call in flight).
    await scene.waitForMark('sleeping', () => bridge.stderr());
    const started = Date.now();
    await docker.getContainer(id).kill();
    const killed = await sleeping;
    expect(Date.now() - started).toBeLessThan(10_000);
    const payload = payloadOf(killed);
    expect(killed.isError).toBe(true);
    expect(payload.status, describeResult(killed)).toBe('error');
    expect(payload.summary).toMatch(/^Sandbox error: /);
    expect(payload.error).toMatch(/killed|stopped|removed/);
    expect(payload.error).toMatch(/state was lost/);
    expect(payload.stdout).toEqual(['sleeping']);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual(['False']);
    const fresh = await runningSandbox(bridge);
    expect(fresh).not.toBe(id);
    // The killed container does not linger: the bridge removed it.
    const onlyFresh = async () =>
      (await containersOwnedBy(docker, bridge.pid)).every((c) => c.Id === fresh);
    expect(await waitFor(onlyFresh, 5000)).toBe(true);
  });

  it('reports user code that closes the runner channel as lost state; the next call runs fresh', async () => {
    await bridge.run({ code: 'marker = "before closing"' });
    const id = await runningSandbox(bridge);
    // Every descriptor but stdio: the runner's copy of stdout or the socket lane, its readers.
    const closed = await bridge.run({ code: 'import os\nos.closerange(3, 65536)' });
    const payload = payloadOf(closed);
    expect(payload.status, describeResult(closed)).toBe('error');
    expect(payload.error).toMatch(/state was lost/);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual(['False']);
    expect(await runningSandbox(bridge)).not.toBe(id);
  });

  it('announces a container removed between calls as a state reset on the next call', async () => {
    await bridge.run({ code: 'marker = "before the removal"' });
    const id = await runningSandbox(bridge);
    const endsBefore = sandboxEnds();
    await docker.getContainer(id).remove({ force: true });
    // Wait until the bridge has seen the attach stream end, as it would during an idle pause.
    expect(await waitFor(() => sandboxEnds() > endsBefore, 10_000, 50)).toBe(true);

    const next = await bridge.run({ code: STATE_PROBE });
    const payload = payloadOf(next);
    expect(next.isError, describeResult(next)).toBe(false);
    expect(payload.stdout).toEqual(['False']);
    expect(payload.notices?.join('\n')).toMatch(/stopped between calls/);
    expect(payload.notices?.join('\n')).toMatch(/earlier variables and imports are gone/);

    const after = await bridge.run({ code: 'print("no notice twice")' });
    expect(payloadOf(after).notices ?? []).toEqual([]);
  });

  it('stops an idle sandbox and says so on the next call', async () => {
    const idle = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '2' },
    });
    try {
      await idle.run({ code: 'marker = "before idling"' });
      const id = await runningSandbox(idle);
      // The container itself goes away, not only the bridge's handle on it.
      const gone = await waitFor(
        async () => (await containersOwnedBy(docker, idle.pid)).every((c) => c.Id !== id),
        6000,
        200,
      );
      expect(gone, 'the idle sandbox container was removed').toBe(true);

      const next = await idle.run({ code: STATE_PROBE });
      const payload = payloadOf(next);
      expect(statusOf(next), describeResult(next)).toBe('success');
      expect(payload.stdout).toEqual(['False']);
      expect(payload.notices?.join('\n')).toMatch(/MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT/);
      expect(payload.notices?.join('\n')).toMatch(/earlier variables and imports are gone/);
    } finally {
      await idle.close();
    }
  });
});

describeEachEngine('run_python when the image cannot be had', (engine) => {
  it('names the image and how to provide one, and keeps answering', async () => {
    const missing = 'localhost/mcp-bridge-no-such-image:never';
    const bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_IMAGE: missing },
    });
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const result = await bridge.run({ code: 'print(1)' });
        const payload = payloadOf(result);
        expect(payload.status, describeResult(result)).toBe('error');
        expect(payload.summary).toMatch(/^Sandbox error: /);
        expect(payload.error).toContain(`'${missing}'`);
        expect(payload.error).toMatch(/could not be pulled/);
        expect(payload.error).toContain('MCP_BRIDGE_IMAGE');
      }
      const { tools } = await bridge.client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['run_python']);
    } finally {
      await bridge.close();
    }
  });
});
