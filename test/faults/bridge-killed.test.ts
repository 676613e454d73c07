import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  startBridge,
  startBridgeProcess,
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
  processGone,
  type FaultScene,
} from '../support/fault-scene.js';

/**
 * The bridge itself SIGKILLed while a call runs (test/e2e/lifecycle.test.ts covers an idle
 * one): nothing of it can clean up, so what it started must end by itself or be reaped
 * by the next bridge, and the next bridge must work.
 */

const PROMPT_MS = 30_000;
/** The label naming a sandbox's session (src/container/labels.ts). */
const SESSION_LABEL = 'io.github.mcp-server-code-execution-mode.session';

describeEachEngine('the bridge SIGKILLed mid-call', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let scene: FaultScene;
  let next: BridgeHandle | undefined;

  beforeAll(() => {
    scene = faultScene();
  });
  afterAll(async () => {
    await next?.close();
    scene?.remove();
  });

  it('the client is told at once; its sandbox and servers end, the next bridge reaps the rest and works', async () => {
    const crashed = await startBridgeProcess({
      dockerHost: engine.dockerHost,
      stateDir: scene.stateDir,
    });
    const context = () => `bridge log:\n${crashed.stderr()}`;
    const setup = await crashed.run({
      code: 'print((await mcp_fixture.pid()).text)',
      servers: ['fixture'],
    });
    expect(statusOf(setup), describeResult(setup)).toBe('success');
    const serverPid = Number(payloadOf(setup).stdout?.[0]);
    const [sandbox] = await containersOwnedBy(docker, crashed.pid);
    const sandboxId = sandbox?.Id ?? '';
    expect(sandbox?.State).toBe('running');

    const inFlight = crashed
      .run({ code: markThenSleep('bridge-kill'), servers: ['fixture'], timeout: 120 }, PROMPT_MS)
      .then(
        (result) => `answered: ${describeResult(result)}`,
        (error: unknown) => String(error),
      );
    await scene.waitForMark('bridge-kill', context);
    process.kill(crashed.pid, 'SIGKILL');
    expect(await crashed.exit).toEqual({ code: null, signal: 'SIGKILL' });

    // The MCP client learns at once that the connection is gone (not after its timeout).
    expect(await inFlight).toMatch(/Connection closed/);
    // What the bridge started ends by itself: the server on the end of its stdin, the
    // sandbox on the end of its channel (the runner exits, so does the container).
    expect(await waitFor(() => processGone(serverPid), 10_000), 'the MCP server lives on').toBe(
      true,
    );
    const sandboxStopped = async () =>
      (await containersOwnedBy(docker, crashed.pid)).every((c) => c.State !== 'running');
    expect(await waitFor(sandboxStopped, 15_000, 200), 'the sandbox keeps running').toBe(true);

    // The next bridge removes the leftover container and lane, and works.
    next = await startBridge({ dockerHost: engine.dockerHost, stateDir: scene.stateDir });
    const first = await next.run({ code: 'print("fresh bridge")' });
    expect(payloadOf(first).stdout, describeResult(first)).toEqual(['fresh bridge']);
    expect(await containersOwnedBy(docker, crashed.pid)).toEqual([]);
    expect(await waitFor(() => processesMentioning(sandboxId).length === 0, 10_000)).toBe(true);
    expect(laneDirsOf(crashed.pid)).toEqual([]);
    const proxied = await next.run({
      code: 'print((await mcp_fixture.echo(message="again")).text)',
      servers: ['fixture'],
    });
    expect(payloadOf(proxied).stdout, describeResult(proxied)).toEqual(['again']);
  });

  it('with several live sessions: the next bridge reaps every one of their containers', async () => {
    const crashed = await startBridgeProcess({
      dockerHost: engine.dockerHost,
      stateDir: scene.stateDir,
    });
    for (const session of ['alpha', 'beta']) {
      const started = await crashed.run({ code: 'x = 1', session });
      expect(statusOf(started), describeResult(started)).toBe('success');
    }
    const owned = await containersOwnedBy(docker, crashed.pid);
    const sessions = owned.map((c) => c.Labels[SESSION_LABEL]).sort();
    // The pre-warmed `default` session may be there too.
    expect(sessions.filter((name) => name !== 'default')).toEqual(['alpha', 'beta']);

    process.kill(crashed.pid, 'SIGKILL');
    expect(await crashed.exit).toEqual({ code: null, signal: 'SIGKILL' });

    const after = await startBridge({ dockerHost: engine.dockerHost, stateDir: scene.stateDir });
    try {
      const first = await after.run({ code: 'print("next")', session: 'alpha' });
      expect(payloadOf(first).stdout, describeResult(first)).toEqual(['next']);
      expect(await containersOwnedBy(docker, crashed.pid)).toEqual([]);
      for (const container of owned) {
        expect(await waitFor(() => processesMentioning(container.Id).length === 0, 10_000)).toBe(
          true,
        );
      }
    } finally {
      await after.close();
    }
  });
});
