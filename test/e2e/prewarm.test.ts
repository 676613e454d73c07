import { afterEach, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  logLines,
  payloadOf,
  startBridge,
  startBridgeProcess,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * The sandbox starts when the client has initialized, not at its first call: a call that
 * comes later finds it running, one that comes meanwhile waits for it, a failed start
 * still gives the first call its error, and the pre-warmed sandbox idles out and is
 * removed at shutdown like any other.
 */

const hasLine = (bridge: BridgeHandle, msg: string): boolean =>
  logLines(bridge).some((line) => line.msg === msg);

const INFO = { MCP_BRIDGE_LOG_LEVEL: 'info' };

describeEachEngine('the sandbox starts when the client initializes', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  async function bridgeWith(env: Record<string, string> = {}): Promise<BridgeHandle> {
    const bridge = await startBridge({ dockerHost: engine.dockerHost, env: { ...INFO, ...env } });
    cleanups.push(() => bridge.close());
    return bridge;
  }

  it('has the sandbox running before the first call, and that call uses it', async () => {
    const bridge = await bridgeWith();
    // No call yet: the container exists and the bridge says how long the start took.
    expect(await waitFor(() => hasLine(bridge, 'sandbox pre-warmed'), 60_000, 50)).toBe(true);
    const before = await containersOwnedBy(docker, bridge.pid);
    expect(before.map((container) => container.State)).toEqual(['running']);
    const prewarmed = logLines(bridge).find((line) => line.msg === 'sandbox pre-warmed');
    expect(prewarmed?.ms).toEqual(expect.any(Number));

    const result = await bridge.run({ code: 'print("first")' });
    expect(payloadOf(result).stdout, describeResult(result)).toEqual(['first']);
    expect(payloadOf(result).notices ?? []).toEqual([]);
    // The same container served it: no second start.
    const after = await containersOwnedBy(docker, bridge.pid);
    expect(after.map((container) => container.Id)).toEqual(before.map((container) => container.Id));
    expect(logLines(bridge).filter((line) => line.msg === 'sandbox started')).toHaveLength(1);
  });

  it('serves a call that arrives while the sandbox is still starting, with one start', async () => {
    const bridge = await bridgeWith();
    const sentAt = Date.now();
    const result = await bridge.run({ code: 'x = 1\nprint("during", x)' });
    expect(payloadOf(result).stdout, describeResult(result)).toEqual(['during 1']);
    expect(payloadOf(result).notices ?? []).toEqual([]);
    const lines = logLines(bridge);
    const prewarmed = lines.find((line) => line.msg === 'sandbox pre-warmed');
    // The call was sent before the start was over, and waited for it rather than
    // starting a second sandbox.
    expect(prewarmed?.time).toBeGreaterThan(sentAt);
    expect(lines.filter((line) => line.msg === 'sandbox started')).toHaveLength(1);
    expect(await containersOwnedBy(docker, bridge.pid)).toHaveLength(1);
    const next = await bridge.run({ code: 'print("then", x)' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['then 1']);
  });

  it('gives the first call the clear error when the pre-warm failed (no such image)', async () => {
    const missing = 'localhost/mcp-bridge-no-such-image:prewarm';
    const bridge = await bridgeWith({ MCP_BRIDGE_IMAGE: missing });
    expect(
      await waitFor(
        () => hasLine(bridge, 'sandbox pre-warm failed; the first call starts one'),
        60_000,
        50,
      ),
    ).toBe(true);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const result = await bridge.run({ code: 'print(1)' });
      const payload = payloadOf(result);
      expect(payload.status, describeResult(result)).toBe('error');
      expect(payload.summary).toMatch(/^Sandbox error: /);
      expect(payload.error).toContain(`'${missing}'`);
      expect(payload.error).toMatch(/could not be pulled/);
      expect(payload.error).toContain('MCP_BRIDGE_IMAGE');
    }
    expect(await containersOwnedBy(docker, bridge.pid)).toEqual([]);
    const { tools } = await bridge.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['run_python']);
  });

  it('stops a pre-warmed sandbox that idles out, and the next call needs no notice', async () => {
    const bridge = await bridgeWith({ MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '2' });
    expect(await waitFor(() => hasLine(bridge, 'sandbox pre-warmed'), 60_000, 50)).toBe(true);
    expect(await waitFor(() => hasLine(bridge, 'stopping idle sandbox'), 30_000, 100)).toBe(true);
    const gone = await waitFor(
      async () => (await containersOwnedBy(docker, bridge.pid)).length === 0,
      10_000,
      100,
    );
    expect(gone, 'the idle pre-warmed container was removed').toBe(true);
    // Nothing the agent made was lost: no notice, just a fresh sandbox.
    const result = await bridge.run({ code: 'print("after idle")' });
    expect(payloadOf(result).stdout, describeResult(result)).toEqual(['after idle']);
    expect(payloadOf(result).notices ?? []).toEqual([]);
  });

  it('leaves no container when closed while the pre-warm is under way', async () => {
    const bridge = await startBridgeProcess({ dockerHost: engine.dockerHost, env: INFO });
    cleanups.push(() => bridge.close());
    // Close as soon as the container exists: it is still booting (or just booted).
    expect(
      await waitFor(
        async () => (await containersOwnedBy(docker, bridge.pid)).length > 0,
        60_000,
        10,
      ),
    ).toBe(true);
    await bridge.client.close(); // ends the bridge's stdin
    expect(await bridge.exit).toEqual({ code: 0, signal: null });
    expect(await containersOwnedBy(docker, bridge.pid)).toEqual([]);
  });

  it('leaves no container when closed right after initialize', async () => {
    for (let round = 0; round < 3; round += 1) {
      const bridge = await startBridgeProcess({ dockerHost: engine.dockerHost, env: INFO });
      cleanups.push(() => bridge.close());
      await bridge.client.close(); // the pre-warm has only just begun
      expect(await bridge.exit).toEqual({ code: 0, signal: null });
      expect(await containersOwnedBy(docker, bridge.pid)).toEqual([]);
    }
  });
});
