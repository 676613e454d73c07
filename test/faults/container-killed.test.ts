import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import {
  faultScene,
  laneDirsOf,
  markThenSleep,
  processesMentioning,
  sandboxError,
  type FaultScene,
} from '../support/fault-scene.js';

/**
 * The sandbox container killed from outside while a call runs, beyond what
 * test/e2e/run-python-failures.test.ts covers (a kill through the engine API during a
 * sleep): its init SIGKILLed on the host, not through the engine, while the cell waits on
 * an MCP server; and the container stopped through the engine (SIGTERM) mid-call.
 */

const PROMPT_MS = 30_000;

describeEachEngine('the sandbox container killed from outside mid-call', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let scene: FaultScene;
  let bridge: BridgeHandle;
  const context = () => `bridge log:\n${bridge.stderr()}`;

  /** The bridge's one container, running; its id and host pid of its init. */
  async function theSandbox(): Promise<{ id: string; initPid: number }> {
    const containers = await containersOwnedBy(docker, bridge.pid);
    expect(containers.map((container) => container.State)).toEqual(['running']);
    const id = containers[0]?.Id ?? '';
    const info = await docker.getContainer(id).inspect();
    return { id, initPid: info.State.Pid };
  }

  /** Nothing of container `id` is left: not the container, not its conmon or shim. */
  async function expectGone(id: string): Promise<void> {
    const gone = async () =>
      (await containersOwnedBy(docker, bridge.pid)).every((container) => container.Id !== id) &&
      processesMentioning(id).length === 0;
    expect(await waitFor(gone, 10_000), `container ${id} or its processes remain`).toBe(true);
  }

  beforeAll(async () => {
    scene = faultScene();
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir: scene.stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    scene?.remove();
  });

  it('SIGKILL of its init on the host while a tool call is in flight: lost state, the tool call is cancelled, the server and the next call work', async () => {
    const setup = await bridge.run({
      code: 'marker = "before"\nprint((await mcp_fixture.pid()).text)',
      servers: ['fixture'],
    });
    expect(statusOf(setup), describeResult(setup)).toBe('success');
    const serverPid = Number(payloadOf(setup).stdout?.[0]);
    const { id, initPid } = await theSandbox();

    const inFlight = bridge.run(
      { code: 'await mcp_fixture.slow(ms=600000)', servers: ['fixture'], timeout: 120 },
      PROMPT_MS,
    );
    await scene.waitForMark(`slow-${serverPid}`, context);
    process.kill(initPid, 'SIGKILL');

    const lost = await inFlight;
    const error = sandboxError(lost);
    expect(error, context()).toMatch(/killed|SIGKILL|exit code 137/);
    expect(error).toMatch(/session state was lost/);
    await expectGone(id);

    // The server was told to drop the abandoned request, and was not restarted for it.
    const after = await bridge.run({
      code: [
        'import json',
        'pid = (await mcp_fixture.pid()).text',
        'echo = (await mcp_fixture.echo(message="alive")).text',
        'print("AFTER " + json.dumps([pid, echo, "marker" in globals()]))',
      ].join('\n'),
      servers: ['fixture'],
    });
    expect(statusOf(after), describeResult(after)).toBe('success');
    expect(printedJson(after, 'AFTER ')).toEqual([String(serverPid), 'alive', false]);
    const cancelled = async () => {
      const result = await bridge.run({
        code: 'print((await mcp_fixture.cancellations()).text)',
        servers: ['fixture'],
      });
      return payloadOf(result).stdout?.[0] === '1';
    };
    expect(await waitFor(cancelled, 10_000, 200)).toBe(true);
    expect(laneDirsOf(bridge.pid)).toHaveLength(1);
  });

  it('stopped through the engine (SIGTERM) mid-call: said so, and the next call works', async () => {
    await bridge.run({ code: 'marker = "before the stop"' });
    const { id } = await theSandbox();
    const inFlight = bridge.run(
      { code: markThenSleep('before-stop'), servers: ['fixture'], timeout: 120 },
      PROMPT_MS,
    );
    await scene.waitForMark('before-stop', context);
    await docker.getContainer(id).stop({ t: 20 });

    const lost = await inFlight;
    const error = sandboxError(lost);
    expect(error, context()).toMatch(/signal 15 \(SIGTERM: the container was stopped from outside/);
    expect(error).toMatch(/session state was lost/);
    await expectGone(id);

    const next = await bridge.run({ code: 'print("marker" in globals())' });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual(['False']);
    expect(laneDirsOf(bridge.pid)).toHaveLength(1);
  });
});
