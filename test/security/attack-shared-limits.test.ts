import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';

/**
 * Every sandbox runs as the same host uid (65534) in the host's user namespace, so the
 * kernel's per-user allowances are shared by all sandboxes. RLIMIT_MSGQUEUE is one: the
 * kernel counts POSIX message queue bytes per user (819,200 by default, nine full queues),
 * so queues one sandbox keeps would leave none for another. Every sandbox gets a limit of
 * 0, so no sandbox can take any of that allowance.
 */

/** Creates up to `count` full-size queues named `/<prefix>N`; prints how many, and why it stopped. */
const makeQueues = (prefix: string, count: number) => String.raw`
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
class MqAttr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("reserved", ctypes.c_long * 4)]
attr = MqAttr(0, 10, 8192, 0)
made, why = 0, "limit of the test"
while made < ${count}:
    name = b"/${prefix}%d" % made
    if libc.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(attr)) == -1:
        why = errno.errorcode[ctypes.get_errno()]
        break
    made += 1
print(made, why)
`;

describeEachEngineAndGvisor('per-user kernel allowances shared between sandboxes', (engine) => {
  let hog: BridgeHandle;
  let neighbour: BridgeHandle;

  beforeAll(async () => {
    hog = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
    neighbour = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await hog?.close();
    await neighbour?.close();
  });

  it('gives no sandbox message queues, so one cannot starve another; the next call works', async () => {
    // Under gVisor the queues are not the host's: each sandbox's live in its own gVisor
    // kernel, in memory counted against that sandbox's memory limit, and no host user's
    // allowance is spent. gVisor does not enforce RLIMIT_MSGQUEUE (runsc 20221219; the
    // limit still reads 0, as the bridge verifies), so the hog makes all the queues it
    // asks for and the neighbour still gets its own: nobody is starved either way.
    const gvisor = engine.ociRuntime === 'runsc';
    // Without the limit: the hog keeps 9 queues and the neighbour's first one fails (EMFILE).
    const hogged = await hog.run({ code: makeQueues('hog', 100) });
    expect(statusOf(hogged), describeResult(hogged)).toBe('success');
    expect(payloadOf(hogged).stdout).toEqual([gvisor ? '100 limit of the test' : '0 EMFILE']);

    const left = await neighbour.run({ code: makeQueues('mine', 1) });
    expect(statusOf(left), describeResult(left)).toBe('success');
    expect(payloadOf(left).stdout).toEqual([gvisor ? '1 limit of the test' : '0 EMFILE']);

    const next = await hog.run({ code: 'print("still here")' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['still here']);
  });
});
