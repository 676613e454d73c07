import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * User code runs in the runner's process and can write to every descriptor it has: fds
 * 1 and 2, the runner's channel (the socket lane, or its copy of the container's stdout),
 * and the container's stdout through the watcher's /proc entry. Execution ids are
 * sequential, so a `done` frame is easy to guess. None of it may end the call early.
 */

/** Writes `line` to every descriptor of this process, and to the watcher's stdout. */
const FORGE = String.raw`
import json, os, sys, threading, time
cell = int(sys._getframe().f_code.co_filename[len("<cell-"):-1])

def everywhere(frame):
    line = ("\n" + json.dumps(frame) + "\n").encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.write(int(name), line)
        except OSError:
            pass
    try:
        with open("/proc/%d/fd/1" % os.getppid(), "wb", buffering=0) as stdout:
            stdout.write(line)
    except OSError as error:
        print("no watcher stdout:", error.strerror, file=sys.stderr)
`;

const DONE = `{"type": "done", "id": cell, "exitCode": 0, "outcome": "completed",
        "dropped": {"stdout": 0, "stderr": 0}, "durationMs": 1}`;

const FORGED_DONE_THEN_WORK = `${FORGE}
done = ${DONE}
everywhere(done)
print(json.dumps(done))
threading.Thread(target=everywhere, args=(done,)).start()
time.sleep(1.5)
print("after")
`;

/** A done frame from a background thread while the cell sleeps past the timeout. */
const FORGED_DONE_THEN_SLEEP = `${FORGE}
done = ${DONE}
def later():
    time.sleep(0.5)
    everywhere(done)
threading.Thread(target=later).start()
marker = "still here"
time.sleep(30)
`;

describeEachEngine('forged frames from user code', (engine) => {
  for (const channel of ['socket', 'stdio'] as const) {
    describeEachChannel(engine.dockerHost, channel);
  }
});

function describeEachChannel(dockerHost: string, channel: 'socket' | 'stdio'): void {
  let bridge: BridgeHandle;
  beforeAll(async () => {
    bridge = await startBridge({
      dockerHost,
      env: { MCP_BRIDGE_CHANNEL: channel === 'socket' ? 'auto' : 'stdio' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it(`[${channel}] a forged done on every descriptor does not end the cell: its later output arrives`, async () => {
    const result = await bridge.run({ code: FORGED_DONE_THEN_WORK });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(payloadOf(result).stdout, describeResult(result)).toContain('after');
    const next = await bridge.run({ code: 'print(cell + 1)' });
    expect(statusOf(next), describeResult(next)).toBe('success');
  });

  it(`[${channel}] a forged done from a background thread does not stop the timeout`, async () => {
    const result = await bridge.run({ code: FORGED_DONE_THEN_SLEEP, timeout: 3 });
    const payload = payloadOf(result);
    expect(payload.status, describeResult(result)).toBe('timeout');
    const next = await bridge.run({ code: 'print(marker)' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['still here']);
  });
}
