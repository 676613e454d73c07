import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * `runtime.reset()` is the sandbox's to call, and the sandbox is hostile: called 10,000
 * times, from threads, with a forged session name, while another session runs, it may
 * only end its own session, and the bridge answers the next call in both.
 */

const SESSION_LABEL = 'io.github.mcp-server-code-execution-mode.session';

/**
 * 10,000 reset requests (a cell's whole RPC budget), half of them forged to name the
 * victim, from a loop and four threads.
 */
const HOSTILE_RESETS = `
import threading
from mcp import runtime
from mcp._rpc import request_sync

def hammer(count):
    for _ in range(count):
        try:
            request_sync({"type": "reset", "session": "victim"})
            runtime.reset()
        except Exception:
            pass

threads = [threading.Thread(target=hammer, args=(750,)) for _ in range(4)]
for thread in threads:
    thread.start()
hammer(2000)
for thread in threads:
    thread.join()
print("done")
`;

describeEachEngine('runtime.reset() from a hostile cell', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let bridge: BridgeHandle;

  const sessionIds = async (name: string) =>
    (await containersOwnedBy(docker, bridge.pid))
      .filter((container) => container.Labels[SESSION_LABEL] === name)
      .map((container) => container.Id);

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('ends only its own session, however often and from wherever it is called', async () => {
    const victim = await bridge.run({ code: 'import time; treasure = 42', session: 'victim' });
    expect(statusOf(victim), describeResult(victim)).toBe('success');
    const attacker = await bridge.run({ code: 'mine = 1', session: 'attacker' });
    expect(statusOf(attacker), describeResult(attacker)).toBe('success');
    const victimBefore = await sessionIds('victim');
    const attackerBefore = await sessionIds('attacker');

    // The victim is in the middle of a call while the attacker resets.
    const running = bridge.run({ code: 'time.sleep(2); print(treasure)', session: 'victim' });
    const attack = await bridge.run({ code: HOSTILE_RESETS, session: 'attacker', timeout: 120 });
    expect(payloadOf(attack).stdout, describeResult(attack)).toEqual(['done']);
    const during = await running;
    expect(payloadOf(during).stdout, describeResult(during)).toEqual(['42']);

    // Containment: the victim keeps its sandbox and state; the attacker's own was reset.
    expect(await sessionIds('victim')).toEqual(victimBefore);
    const after = await bridge.run({ code: 'print(treasure)', session: 'victim' });
    expect(payloadOf(after).stdout, describeResult(after)).toEqual(['42']);
    expect(payloadOf(after).notices ?? []).toEqual([]);

    // The next call in the attacker's session works, in a fresh sandbox.
    const next = await bridge.run({ code: 'print("mine" in globals())', session: 'attacker' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['False']);
    const attackerNow = await sessionIds('attacker');
    expect(attackerNow).toHaveLength(1);
    expect(attackerNow).not.toEqual(attackerBefore);
  }, 180_000);
});
