import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  startBridgeProcess,
  statusOf,
  waitFor,
  type BridgeProcessHandle,
} from '../support/bridge-client.js';
import { describeEachEngine, testImage } from '../support/engines.js';
import {
  faultScene,
  laneDirsOf,
  markThenSleep,
  processesMentioning,
  sandboxError,
  type FaultScene,
} from '../support/fault-scene.js';
import {
  startPrivateDocker,
  startPrivatePodman,
  type PrivateEngine,
} from '../support/private-engine.js';

/**
 * The engine's API service goes away while a call is running, and comes back: a private
 * service of the test's own (test/support/private-engine.ts), never the shared one. The
 * call in flight is told the sandbox was lost, calls while the engine is down are told
 * which engine address does not answer, and once it is back the next call runs in a fresh
 * sandbox, with nothing of the old one left.
 */

/** A call in flight must end long before this; the cell itself would sleep for minutes. */
const PROMPT_MS = 30_000;

describeEachEngine('the engine API service restarting mid-call', (shared) => {
  let engine: PrivateEngine;
  let scene: FaultScene;
  let bridge: BridgeProcessHandle;
  const context = () => `bridge log:\n${bridge.stderr()}\nengine log:\n${engine.log()}`;

  beforeAll(async () => {
    engine =
      shared.name === 'podman'
        ? await startPrivatePodman(testImage())
        : await startPrivateDocker(dockerClient(shared.dockerHost), testImage());
    scene = faultScene();
    bridge = await startBridgeProcess({
      dockerHost: engine.dockerHost,
      stateDir: scene.stateDir,
      env: { MCP_BRIDGE_IMAGE: engine.image, MCP_BRIDGE_RUNTIME: shared.name },
    });
  }, 180_000);

  // A test that failed half-way must not leave the next one without its engine.
  beforeEach(async () => {
    if (!engine.running) await engine.start();
  }, 120_000);

  afterAll(async () => {
    await bridge?.close();
    await engine?.dispose();
    scene?.remove();
  }, 120_000);

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`tells the call in flight, then the calls while it is down, and recovers (${signal})`, async () => {
      const warm = await bridge.run({ code: 'marker = "set before the engine went away"' });
      expect(statusOf(warm), describeResult(warm)).toBe('success');
      const [old, ...others] = await containersOwnedBy(engine.docker, bridge.pid);
      expect([old?.State, others.length]).toEqual(['running', 0]);

      const mark = `cell-running-${signal}`;
      const inFlight = bridge.run(
        { code: markThenSleep(mark), servers: ['fixture'], timeout: 120 },
        PROMPT_MS,
      );
      await scene.waitForMark(mark, context);
      await engine.stop(signal);

      const lost = await inFlight;
      const lostError = sandboxError(lost);
      expect(lostError, context()).toMatch(/container engine|SIGTERM/);
      expect(lostError).toMatch(/session state was lost/);
      expect(payloadOf(lost).stdout ?? []).toEqual([]);

      // While it is down: a clear error naming the address, promptly, every time.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const down = await bridge.run({ code: 'print(marker)' }, PROMPT_MS);
        const downError = sandboxError(down);
        expect(downError, context()).toContain(engine.dockerHost);
        expect(downError).toMatch(/not answering/);
      }

      await engine.start();
      const next = await bridge.run({ code: 'print("marker" in globals())' });
      expect(statusOf(next), `${describeResult(next)}\n${context()}`).toBe('success');
      expect(payloadOf(next).stdout).toEqual(['False']);

      // Nothing of the old sandbox is left: one container (the fresh one), one lane.
      const now = await containersOwnedBy(engine.docker, bridge.pid);
      expect(now.map((container) => `${container.Id.slice(0, 12)} ${container.State}`)).toEqual([
        `${now[0]?.Id.slice(0, 12)} running`,
      ]);
      expect(now[0]?.Id).not.toBe(old?.Id);
      expect(await waitFor(() => processesMentioning(old?.Id ?? '').length === 0, 10_000)).toBe(
        true,
      );
      expect(laneDirsOf(bridge.pid)).toHaveLength(1);
      // The outage was not taken for an engine that refuses the socket lane.
      const fresh = await engine.docker.getContainer(now[0]?.Id ?? '').inspect();
      expect(fresh.Mounts.map((mount) => mount.Destination)).toContain('/run/mcp-bridge');
    }, 180_000);
  }

  it('exits leaving no container and no lane of its own', async () => {
    await bridge.client.close();
    expect(await bridge.exit).toEqual({ code: 0, signal: null });
    expect(await containersOwnedBy(engine.docker, bridge.pid)).toEqual([]);
    expect(laneDirsOf(bridge.pid)).toEqual([]);
  });
});
