import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  resultText,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * The session: one long-lived Python namespace behind run_python, seen through the real
 * MCP SDK client over stdio against the built bridge and a real container.
 */

describeEachEngine('run_python session', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('keeps variables, imports and functions between calls', async () => {
    const define = await bridge.run({
      code: [
        'import json as persisted_json',
        'counter = 41',
        'def bump(n):',
        '    global counter',
        '    counter += n',
        '    return counter',
      ].join('\n'),
    });
    expect(statusOf(define), describeResult(define)).toBe('success');

    const use = await bridge.run({
      code: 'print(bump(1)); print(persisted_json.dumps({"counter": counter}))',
    });
    expect(statusOf(use), describeResult(use)).toBe('success');
    expect(payloadOf(use).stdout).toEqual(['42', '{"counter": 42}']);
  });

  it('runs top-level await, on an event loop that outlives the call', async () => {
    const first = await bridge.run({
      code: [
        'import asyncio',
        'async def twice(x):',
        '    await asyncio.sleep(0.01)',
        '    return 2 * x',
        'loop_id = id(asyncio.get_running_loop())',
        'print(await twice(21))',
      ].join('\n'),
    });
    expect(statusOf(first), describeResult(first)).toBe('success');
    expect(payloadOf(first).stdout).toEqual(['42']);

    const second = await bridge.run({
      code: 'print(await twice(5), id(asyncio.get_running_loop()) == loop_id)',
    });
    expect(payloadOf(second).stdout).toEqual(['10 True']);
  });

  it('reports an exception as a traceback naming the failing line; the state survives', async () => {
    await bridge.run({ code: 'survivor = "still here"' });
    const failed = await bridge.run({
      code: ['a = 1', 'b = 0', 'ratio = a / b  # the failing line', 'print("unreached")'].join(
        '\n',
      ),
    });
    const payload = payloadOf(failed);
    expect(failed.isError).toBe(true);
    expect(payload.status).toBe('error');
    expect(payload.exitCode).toBe(1);
    expect(payload.stdout ?? []).toEqual([]);
    const stderr = (payload.stderr ?? []).join('\n');
    expect(stderr).toMatch(/^Traceback \(most recent call last\):/);
    expect(stderr).toMatch(/line 3/);
    expect(stderr).toContain('ratio = a / b  # the failing line');
    expect(stderr).toMatch(/ZeroDivisionError: division by zero$/);
    expect(resultText(failed)).toMatch(/^status: error\nexit: 1\n/);

    const next = await bridge.run({ code: 'print(survivor, a, b)' });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual(['still here 1 0']);
  });

  it('turns sys.exit(3) into exit code 3 and keeps the state', async () => {
    const exited = await bridge.run({
      code: 'import sys\nbefore_exit = "kept"\nprint("about to exit")\nsys.exit(3)\nprint("no")',
    });
    const payload = payloadOf(exited);
    expect(exited.isError).toBe(true);
    expect(payload.status).toBe('error');
    expect(payload.exitCode).toBe(3);
    expect(payload.stdout).toEqual(['about to exit']);
    expect(resultText(exited)).toMatch(/exit: 3/);

    const next = await bridge.run({ code: 'print(before_exit)' });
    expect(payloadOf(next).stdout).toEqual(['kept']);
  });

  it('treats sys.exit(0) and sys.exit() as success', async () => {
    for (const call of ['sys.exit(0)', 'sys.exit()', 'raise SystemExit']) {
      const result = await bridge.run({
        code: `import sys\nprint("exiting with ${call}")\n${call}\nprint("not reached")`,
      });
      expect(result.isError, call).toBe(false);
      expect(statusOf(result), describeResult(result)).toBe('success');
      expect(payloadOf(result).exitCode ?? 0, call).toBe(0);
      expect(payloadOf(result).stdout, call).toEqual([`exiting with ${call}`]);
    }
  });

  it('runs concurrent calls one at a time, in arrival order, never interleaved', async () => {
    await bridge.run({ code: 'shared_log = []' });
    const calls = [0, 1, 2, 3, 4].map((index) =>
      bridge.run({
        code: [
          'import time',
          `shared_log.append("start ${index}")`,
          'time.sleep(0.15)',
          `shared_log.append("end ${index}")`,
          'print(len(shared_log), shared_log[-2], shared_log[-1])',
        ].join('\n'),
      }),
    );
    const results = await Promise.all(calls);
    const lines = results.map((result) => (payloadOf(result).stdout ?? []).join('|'));
    // Each call saw its own start and end back to back, and the log grew by 2 per call
    // in the order the calls were sent.
    expect(lines).toEqual([
      '2 start 0 end 0',
      '4 start 1 end 1',
      '6 start 2 end 2',
      '8 start 3 end 3',
      '10 start 4 end 4',
    ]);
  });

  it('refuses calls past the queue limit with a clear error; the queued ones run', async () => {
    const queued = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_QUEUE_LIMIT: '2' },
    });
    try {
      await queued.run({ code: 'print("warm")' }); // the sandbox exists before the burst
      const burst = await Promise.all(
        [0, 1, 2, 3, 4].map((index) =>
          queued.run({ code: `import time\ntime.sleep(0.5)\nprint("ran ${index}")` }),
        ),
      );
      const succeeded = burst.filter((result) => !result.isError);
      const refused = burst.filter((result) => result.isError);
      expect(succeeded.length, burst.map(describeResult).join('\n')).toBeGreaterThanOrEqual(1);
      expect(refused.length, burst.map(describeResult).join('\n')).toBeGreaterThanOrEqual(1);
      for (const result of succeeded) {
        expect(payloadOf(result).stdout?.[0]).toMatch(/^ran \d$/);
      }
      for (const result of refused) {
        expect(payloadOf(result).status).toBe('error');
        expect(payloadOf(result).error).toMatch(/Too many run_python calls are waiting/);
        expect(payloadOf(result).error).toContain('MCP_BRIDGE_QUEUE_LIMIT=2');
      }
      // The first calls of the burst were the ones accepted.
      expect(burst.map((result) => !result.isError)).toEqual(
        burst.map((_, index) => index < succeeded.length),
      );

      const after = await queued.run({ code: 'print("after the burst")' });
      expect(payloadOf(after).stdout).toEqual(['after the burst']);
    } finally {
      await queued.close();
    }
  });
});
