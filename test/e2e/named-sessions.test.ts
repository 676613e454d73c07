import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  payloadOf,
  resultText,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { watchedCall } from '../support/progress-calls.js';

/**
 * Named sessions (run_python's `session`): each has its own sandbox, state, queue and
 * idle timer; calls in different sessions run in parallel. Real bridge, real containers.
 */

const SESSION_LABEL = 'io.github.mcp-server-code-execution-mode.session';

function stdoutOf(result: CallToolResult): string[] {
  return payloadOf(result).stdout ?? [];
}

/** The notices of a result, as one string. */
function noticesOf(result: CallToolResult): string {
  return (payloadOf(result).notices ?? []).join('\n');
}

describeEachEngine('named sessions', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let bridge: BridgeHandle;

  /** The containers of this bridge carrying the session label `name`. */
  const sessionContainers = async (owner: BridgeHandle, name: string) =>
    (await containersOwnedBy(docker, owner.pid)).filter(
      (container) => container.Labels[SESSION_LABEL] === name,
    );

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('runs two sessions in parallel: two 2 s sleeps take about 2 s, not 4', async () => {
    for (const session of ['left', 'right']) {
      const warm = await bridge.run({ code: 'import time', session });
      expect(statusOf(warm), describeResult(warm)).toBe('success');
    }
    const sleep = 'start = time.time(); time.sleep(2); print(start, time.time())';
    const results = await Promise.all(
      ['left', 'right'].map((session) => bridge.run({ code: sleep, session })),
    );
    const spans = results.map((result) => {
      expect(statusOf(result), describeResult(result)).toBe('success');
      const [start, end] = (stdoutOf(result)[0] ?? '').split(' ').map(Number);
      return { start: start ?? NaN, end: end ?? NaN };
    });
    // Each call ran while the other did (they overlap), and the pair took well under the
    // sum of the two calls (one after the other it would be at least that).
    const pair = Math.max(...spans.map((s) => s.end)) - Math.min(...spans.map((s) => s.start));
    const sum = spans.reduce((total, s) => total + (s.end - s.start), 0);
    expect(Math.max(...spans.map((s) => s.start))).toBeLessThan(
      Math.min(...spans.map((s) => s.end)),
    );
    expect(pair).toBeLessThan(sum * 0.75);
    expect(await sessionContainers(bridge, 'left')).toHaveLength(1);
    expect(await sessionContainers(bridge, 'right')).toHaveLength(1);
  });

  it('keeps each session to itself: a variable set in one is not in the other', async () => {
    const set = await bridge.run({ code: 'secret = "left only"', session: 'left' });
    expect(statusOf(set), describeResult(set)).toBe('success');
    const other = await bridge.run({ code: 'print("secret" in globals())', session: 'right' });
    expect(stdoutOf(other), describeResult(other)).toEqual(['False']);
    const fallback = await bridge.run({ code: 'print("secret" in globals())' });
    expect(stdoutOf(fallback), describeResult(fallback)).toEqual(['False']);
    const same = await bridge.run({ code: 'print(secret)', session: 'left' });
    expect(stdoutOf(same), describeResult(same)).toEqual(['left only']);
  });

  it('runtime.reset() ends its own session only; the next call there starts fresh', async () => {
    await bridge.run({ code: 'kept = "right stays"', session: 'right' });
    await bridge.run({ code: 'doomed = 1', session: 'left' });
    const reset = await bridge.run({
      code: 'from mcp import runtime\nprint(runtime.reset())',
      session: 'left',
    });
    expect(stdoutOf(reset), describeResult(reset)).toEqual(['left']);
    const after = await bridge.run({ code: 'print("doomed" in globals())', session: 'left' });
    expect(stdoutOf(after), describeResult(after)).toEqual(['False']);
    expect(noticesOf(after)).toMatch(/reset/);
    const untouched = await bridge.run({ code: 'print(kept)', session: 'right' });
    expect(stdoutOf(untouched), describeResult(untouched)).toEqual(['right stays']);
    // The reset sandbox is gone: one container for the session again.
    expect(
      await waitFor(async () => (await sessionContainers(bridge, 'left')).length === 1, 15_000),
    ).toBe(true);
  });

  it('history() carries the session and shows only its own', async () => {
    await bridge.run({ code: 'print("from right")', session: 'right' });
    const read = await bridge.run({
      code: [
        'from mcp import runtime',
        'entries = runtime.history(50)',
        'print(sorted({e["session"] for e in entries}))',
        'print(any("from right" in e["code"] for e in entries))',
      ].join('\n'),
      session: 'left',
    });
    expect(stdoutOf(read), describeResult(read)).toEqual(["['left']", 'False']);
  });

  it('progress notifications carry the session', async () => {
    const call = watchedCall(bridge.client, 'run_python', {
      code: 'import time\nfrom mcp import runtime\nfor i in range(3):\n    runtime.progress(i, 3)\n    time.sleep(0.3)',
      session: 'right',
    });
    expect(await call.progressed(1)).toBe(true);
    const result = await call.result;
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(call.events.map((event) => event._meta?.session)).toContain('right');
    expect(new Set(call.events.map((event) => event._meta?.session))).toEqual(new Set(['right']));
  });

  it('refuses invalid session names with a validation error; the next call works', async () => {
    for (const session of ['', 'x'.repeat(65), '../x', 'café', '..', 42, null, ['a']]) {
      const result = await bridge.run({ code: 'print(1)', session });
      expect(result.isError, `${JSON.stringify(session)}: ${describeResult(result)}`).toBe(true);
      expect(statusOf(result)).toBe('validation_error');
      expect(resultText(result)).toMatch(/'session' must be/);
    }
    const next = await bridge.run({ code: 'print("fine")', session: 'x'.repeat(64) });
    expect(stdoutOf(next), describeResult(next)).toEqual(['fine']);
    const reset = await bridge.run({
      code: 'from mcp import runtime; runtime.reset()',
      session: 'x'.repeat(64),
    });
    expect(statusOf(reset), describeResult(reset)).toBe('success');
  });
});

describeEachEngine('the session cap', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_MAX_SESSIONS: '3' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('refuses a new session past MCP_BRIDGE_MAX_SESSIONS, listing the live ones; reset frees a slot', async () => {
    // The pre-warmed `default` session counts too: with it, two named ones fill the cap.
    const first = await bridge.run({ code: 'a = 1', session: 'one' });
    expect(statusOf(first), describeResult(first)).toBe('success');
    const second = await bridge.run({ code: 'b = 2', session: 'two' });
    expect(statusOf(second), describeResult(second)).toBe('success');

    const refused = await bridge.run({ code: 'print(3)', session: 'three' });
    expect(refused.isError, describeResult(refused)).toBe(true);
    const message = resultText(refused);
    expect(message).toMatch(/MCP_BRIDGE_MAX_SESSIONS/);
    expect(message).toMatch(/Live sessions: default, one, two\b/);
    expect(message).toMatch(/runtime\.reset\(\)/);
    expect(message).toMatch(/MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT/);
    // Nothing was started for it, and the live sessions work on.
    const owned = await containersOwnedBy(docker, bridge.pid);
    expect(owned.some((c) => c.Labels[SESSION_LABEL] === 'three')).toBe(false);
    const again = await bridge.run({ code: 'print(a)', session: 'one' });
    expect(stdoutOf(again), describeResult(again)).toEqual(['1']);

    // `default` (clients that know nothing of sessions) is never refused.
    const fallback = await bridge.run({ code: 'print("default")' });
    expect(stdoutOf(fallback), describeResult(fallback)).toEqual(['default']);

    // A reset session holds no sandbox: its slot is free.
    await bridge.run({ code: 'from mcp import runtime; runtime.reset()', session: 'two' });
    const third = await bridge.run({ code: 'print(3)', session: 'three' });
    expect(stdoutOf(third), describeResult(third)).toEqual(['3']);
  });
});

describeEachEngine('an idle session', (engine) => {
  const docker = dockerClient(engine.dockerHost);
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '2' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  const sessionContainers = async (name: string) =>
    (await containersOwnedBy(docker, bridge.pid)).filter(
      (container) => container.Labels[SESSION_LABEL] === name,
    );

  it('idles out alone: the busy session keeps its sandbox, the idle one starts fresh', async () => {
    const idle = await bridge.run({ code: 'remembered = 1', session: 'idle' });
    expect(statusOf(idle), describeResult(idle)).toBe('success');
    const busyWarm = await bridge.run({ code: 'import time; mine = "busy"', session: 'busy' });
    expect(statusOf(busyWarm), describeResult(busyWarm)).toBe('success');
    const [busyContainer] = await sessionContainers('busy');

    // The busy session runs for longer than the idle timeout, while the idle one idles out.
    const busy = bridge.run({ code: 'time.sleep(12); print(mine)', session: 'busy', timeout: 60 });
    const reaped = await waitFor(
      async () => (await sessionContainers('idle')).length === 0,
      30_000,
      200,
    );
    expect(reaped, 'the idle session keeps its sandbox').toBe(true);
    const stillThere = await sessionContainers('busy');
    expect(stillThere.map((c) => c.Id)).toEqual([busyContainer?.Id]);
    expect(stillThere[0]?.State).toBe('running');

    const busyDone = await busy;
    expect(stdoutOf(busyDone), describeResult(busyDone)).toEqual(['busy']);
    const fresh = await bridge.run({ code: 'print("remembered" in globals())', session: 'idle' });
    expect(stdoutOf(fresh), describeResult(fresh)).toEqual(['False']);
    expect(noticesOf(fresh)).toMatch(/MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT/);
  });
});
