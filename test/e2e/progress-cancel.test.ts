import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  CODE_PROGRESS_INTERVAL_MS,
  HEARTBEAT_INTERVAL_MS,
} from '../../src/server/progress-reporter.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  startBridgeProcess,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { watchedCall } from '../support/progress-calls.js';

/**
 * Progress and cancellation through the real SDK client: notifications while code runs
 * (the bridge's elapsed-time ones and the code's own, runtime.progress), and
 * notifications/cancelled, which interrupts a running call as its timeout would and keeps
 * a queued one from ever starting.
 */

/** A cell that says it started (a progress report), then loops until interrupted. */
const REPORT_THEN_LOOP = (before: string, loop: string) => `${before}
from mcp import runtime
runtime.progress(1, message="looping")
${loop}`;

describeEachEngine('progress and cancellation', (engine) => {
  let bridge: BridgeHandle;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-progress-'));
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_TOOLS: 'all', MCP_BRIDGE_INTERRUPT_GRACE: '1' },
      stateDir,
    });
  });
  afterAll(async () => {
    await bridge?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('sends elapsed-time notifications with the output so far while a 5 s loop runs', async () => {
    const started = Date.now();
    const call = watchedCall(bridge.client, 'run_python', {
      code: 'import time\nfor i in range(20):\n    print(f"step {i}")\n    time.sleep(0.25)',
    });
    const result = await call.result;
    const seconds = (Date.now() - started) / 1000;
    expect(payloadOf(result).stdout, describeResult(result)).toHaveLength(20);
    const { events } = call;
    // One a second at most, and the loop runs 5 s: at least 2 whatever the load.
    expect(events.length, JSON.stringify(events)).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(Math.ceil(seconds * (1000 / HEARTBEAT_INTERVAL_MS)));
    const values = events.map((event) => event.progress);
    expect(values.every((value, index) => index === 0 || value > (values[index - 1] ?? 0))).toBe(
      true,
    );
    for (const event of events) {
      expect(Number.isInteger(event.progress)).toBe(true);
      expect(event.total).toBeUndefined();
      expect(event.message).toMatch(/^step \d+$/);
      // The line's newline may still be on its way when the notification goes out.
      const step = Number(event.message?.slice(5));
      expect(event._meta?.outputLines).toBeGreaterThanOrEqual(step);
      expect(event._meta?.outputLines).toBeLessThanOrEqual(step + 1);
    }
  });

  it('sends what runtime.progress() reports, with its numbers', async () => {
    const call = watchedCall(bridge.client, 'run_python', {
      code: [
        'import time',
        'from mcp import runtime',
        'sent = []',
        'for i in range(1, 6):',
        '    sent.append(runtime.progress(i, 5, f"part {i}"))',
        '    time.sleep(0.3)',
        'print(sent)',
      ].join('\n'),
    });
    const result = await call.result;
    expect(payloadOf(result).stdout, describeResult(result)).toEqual([
      '[True, True, True, True, True]',
    ]);
    // On a slow machine an elapsed-time notification may come before the first report;
    // none comes after it.
    const first = call.events.findIndex((event) => event.total !== undefined);
    const events = call.events.slice(first);
    expect(events[0], JSON.stringify(call.events)).toMatchObject({
      progress: 1,
      total: 5,
      message: 'part 1',
    });
    for (const event of events) {
      expect(event.total).toBe(5);
      expect(event.message).toBe(`part ${event.progress}`);
    }
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(5);
  });

  it('refuses bad progress values with a clear error, cuts long messages, and goes on', async () => {
    // The cell waits after its report until cancelled: the SDK client drops a progress
    // notification that arrives together with its call's result (it handles notifications
    // a tick after responses), so a report must not be the cell's last act here.
    const call = watchedCall(bridge.client, 'run_python', {
      code: String.raw`
import time
from mcp import runtime
errors = []
for args in [(float("nan"),), (1, float("inf")), ("3",), (True,), (1, None, 5), (10**400,)]:
    try:
        runtime.progress(*args)
    except (TypeError, ValueError) as error:
        errors.append(f"{type(error).__name__}: {error}")
runtime.progress(7, 9, "x" * 100_000)
while True:
    time.sleep(0.05)
`,
      timeout: 120,
    });
    expect(await call.progressed()).toBe(true);
    call.cancel();
    await expect(call.result).rejects.toThrow(/cancelled/);
    expect(call.events.filter((event) => event.total !== undefined)).toEqual([
      expect.objectContaining({ progress: 7, total: 9, message: 'x'.repeat(200) }),
    ]);
    const next = await bridge.run({ code: 'import json\nprint("JSON " + json.dumps(errors))' });
    const errors = printedJson<string[]>(next);
    expect(errors, describeResult(next)).toHaveLength(6);
    expect(errors[0]).toMatch(/^ValueError: done must be a finite number/);
    expect(errors[1]).toMatch(/^ValueError: total must be a finite number/);
    expect(errors[2]).toBe('TypeError: done must be a number, not str');
    expect(errors[3]).toBe('TypeError: done must be a number, not bool');
    expect(errors[4]).toBe('TypeError: message must be a str or None, not int');
    expect(errors[5]).toMatch(/^ValueError: done must be a finite number/);
  });

  it('a cancel interrupts a running loop; the state set before it is kept', async () => {
    const call = watchedCall(bridge.client, 'run_python', {
      code: REPORT_THEN_LOOP(
        'kept = "set before the loop"\nimport time',
        'while True:\n    time.sleep(0.05)',
      ),
      timeout: 120,
    });
    expect(await call.progressed()).toBe(true);
    call.cancel();
    await expect(call.result).rejects.toThrow(/cancelled by the test/);
    const next = await bridge.run({
      code: 'import json\nfrom mcp import runtime\nprint(kept)\nprint("JSON " + json.dumps(runtime.history(1)[0]))',
    });
    expect(payloadOf(next).stdout?.[0], describeResult(next)).toBe('set before the loop');
    expect(payloadOf(next).notices).toBeUndefined();
    // The history says how the cancelled call ended: interrupted (exit 130), not killed.
    expect(printedJson<{ status: string; exitCode: number }>(next)).toMatchObject({
      status: 'cancelled',
      exitCode: 130,
    });
  });

  it('a cancelled loop that ignores the interrupt is killed; the next call says so', async () => {
    const call = watchedCall(bridge.client, 'run_python', {
      code: REPORT_THEN_LOOP(
        'doomed = 1\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)',
        'while True:\n    pass',
      ),
      timeout: 120,
    });
    expect(await call.progressed()).toBe(true);
    call.cancel();
    await expect(call.result).rejects.toThrow(/cancelled/);
    const next = await bridge.run({ code: 'print("doomed" in globals())' });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['False']);
    const notices = payloadOf(next).notices?.join('\n') ?? '';
    expect(notices).toMatch(/earlier call was cancelled/);
    expect(notices).toMatch(/ignored the interrupt for 1s/);
    expect(notices).toMatch(/fresh sandbox/);
    const after = await bridge.run({ code: 'print("works")' });
    expect(payloadOf(after).notices).toBeUndefined();
  });

  it('a call cancelled while it waits in the queue never runs', async () => {
    await bridge.run({
      code: 'import os\nif os.path.exists("queued-ran"): os.remove("queued-ran")',
    });
    const running = watchedCall(bridge.client, 'run_python', {
      code: REPORT_THEN_LOOP('import time', 'while True:\n    time.sleep(0.05)'),
      timeout: 120,
    });
    expect(await running.progressed()).toBe(true);
    // Queued behind the running call (no import statement: no helper cell runs first).
    const queued = watchedCall(bridge.client, 'run_python', {
      code: 'open("queued-ran", "w").write("it ran")',
    });
    queued.cancel();
    running.cancel();
    await expect(queued.result).rejects.toThrow(/cancelled/);
    await expect(running.result).rejects.toThrow(/cancelled/);
    const check = await bridge.run({
      code: 'import json, os\nfrom mcp import runtime\nprint("JSON " + json.dumps([os.path.exists("queued-ran"), [h["status"] for h in runtime.history(2)]]))',
    });
    expect(printedJson(check), describeResult(check)).toEqual([false, ['cancelled', 'cancelled']]);
  });

  it('execute_python_code honours cancellation the same way', async () => {
    const call = watchedCall(bridge.client, 'execute_python_code', {
      code: REPORT_THEN_LOOP('executor_kept = 7\nimport time', 'while True:\n    time.sleep(0.05)'),
      allow_unsafe: true,
      timeout: 120,
    });
    expect(await call.progressed()).toBe(true);
    call.cancel();
    await expect(call.result).rejects.toThrow(/cancelled/);
    const next = CallToolResultSchema.parse(
      await bridge.client.callTool({
        name: 'execute_python_code',
        arguments: { code: 'print(executor_kept)', allow_unsafe: true },
      }),
    );
    expect(next.structuredContent).toMatchObject({ success: true, stdout: '7\n' });
  });

  it("rate-limits the code's reports: a flood reaches the client bounded", async () => {
    const started = Date.now();
    const call = watchedCall(bridge.client, 'run_python', {
      code: 'from mcp import runtime\nsent = sum(runtime.progress(i, 10**6) for i in range(10**6))\nprint(sent)',
    });
    const result = await call.result;
    const seconds = (Date.now() - started) / 1000;
    const sent = Number(payloadOf(result).stdout?.[0]);
    // The sandbox sends at most 20 frames a second, the bridge forwards at most 5.
    expect(sent, describeResult(result)).toBeLessThanOrEqual(Math.ceil(seconds * 20) + 1);
    expect(call.events.length).toBeLessThanOrEqual(
      Math.ceil((seconds * 1000) / CODE_PROGRESS_INTERVAL_MS) + 1,
    );
    expect(call.events.length).toBeGreaterThanOrEqual(1);
  });
});

describeEachEngine('a call whose client goes away', (engine) => {
  const docker = dockerClient(engine.dockerHost);

  it('is cancelled: the bridge records it so, removes its sandbox and exits', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-progress-gone-'));
    try {
      const env = { ...engine.bridgeEnv, MCP_BRIDGE_TOOLS: 'executor' };
      const bridge = await startBridgeProcess({ dockerHost: engine.dockerHost, env, stateDir });
      const call = watchedCall(bridge.client, 'run_python', {
        code: REPORT_THEN_LOOP('import time', 'while True:\n    time.sleep(0.05)'),
        timeout: 120,
      });
      expect(await call.progressed()).toBe(true);
      await bridge.client.close(); // ends the bridge's stdin, as a client that quits
      expect(await bridge.exit).toEqual({ code: 0, signal: null });
      expect(
        await waitFor(
          async () => (await containersOwnedBy(docker, bridge.pid)).length === 0,
          10_000,
        ),
      ).toBe(true);
      const reader = await startBridge({ dockerHost: engine.dockerHost, env, stateDir });
      try {
        const history = CallToolResultSchema.parse(
          await reader.client.callTool({ name: 'get_execution_history', arguments: { limit: 1 } }),
        );
        expect(history.structuredContent).toMatchObject({
          history: [{ status: 'cancelled' }],
        });
      } finally {
        await reader.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
