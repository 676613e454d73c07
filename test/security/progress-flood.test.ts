import { afterAll, beforeAll, expect, it } from 'vitest';
import { CODE_PROGRESS_INTERVAL_MS } from '../../src/server/progress-reporter.js';
import {
  describeResult,
  payloadOf,
  startBridge,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { watchedCall } from '../support/progress-calls.js';

/**
 * Progress reports come from the sandbox, whose code is hostile: it can skip
 * runtime.progress() and its rate limit and write `progress` frames straight to the
 * runner's channel, as many as it likes, with any values. What reaches the MCP client
 * stays bounded (at most one notification per CODE_PROGRESS_INTERVAL_MS), carries only
 * finite numbers and messages of at most 200 characters, and only for the call's own
 * cell; the bridge's log stays bounded and the next call works.
 */

const FLOOD = String.raw`
import gc
from mcp._link import LINK
from mcp_sandbox.protocol import Channel
channel = next(o for o in gc.get_objects() if type(o) is Channel)
cell = LINK.transport.running_cell()
bad = [
    b'{"type":"progress","id":%d,"progress":1e999}\n' % cell,
    b'{"type":"progress","id":%d,"progress":NaN}\n' % cell,
    b'{"type":"progress","id":%d,"progress":1,"message":"%s"}\n' % (cell, b"m" * 5000),
    b'{"type":"progress","id":%d,"progress":"1"}\n' % cell,
    b'{"type":"progress","id":%d,"progress":1,"total":-1e999}\n' % cell,
    b'{"type":"progress","id":999999,"progress":424242}\n',
]
for i in range(60_000):
    channel.send_line(b'{"type":"progress","id":%d,"progress":%d,"message":"%s"}\n' % (cell, i, b"y" * 300))
    if i % 1000 == 0:
        for line in bad:
            channel.send_line(line)
print("flooded")
`;

describeEachEngine('a flood of progress frames', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('reaches the client bounded and clean; the next call works', async () => {
    await bridge.run({ code: 'print("warm")' });
    const logBefore = bridge.stderrBytes();
    const started = Date.now();
    const call = watchedCall(bridge.client, 'run_python', { code: FLOOD, timeout: 120 });
    const result = await call.result;
    const seconds = (Date.now() - started) / 1000;
    expect(payloadOf(result).stdout, describeResult(result)).toEqual(['flooded']);
    const { events } = call;
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length, `${events.length} notifications in ${seconds}s`).toBeLessThanOrEqual(
      Math.ceil((seconds * 1000) / CODE_PROGRESS_INTERVAL_MS) + 1,
    );
    for (const event of events) {
      expect(Number.isFinite(event.progress), JSON.stringify(event)).toBe(true);
      expect(event.progress).not.toBe(424242); // another cell's frame
      expect(event.total === undefined || Number.isFinite(event.total)).toBe(true);
      expect(event.message?.length ?? 0).toBeLessThanOrEqual(200);
    }
    // The invalid frames are logged within the sandbox's log allowance, not one by one.
    expect(bridge.stderrBytes() - logBefore).toBeLessThan(1024 * 1024);
    const next = await bridge.run({ code: 'print("next")' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['next']);
  });
});
