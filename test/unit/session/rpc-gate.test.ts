import { describe, expect, it } from 'vitest';
import { RPC_LIMITS, RpcGate } from '../../../src/session/rpc-gate.js';

describe('RpcGate', () => {
  it('answers with the handler result, or its error as a failure', async () => {
    const gate = new RpcGate((payload) =>
      payload.fail ? Promise.reject(new Error('boom')) : Promise.resolve({ echoed: payload.value }),
    );
    expect(await gate.answer({ value: 3 })).toEqual({ success: true, payload: { echoed: 3 } });
    expect(await gate.answer({ fail: true })).toEqual({ success: false, error: 'boom' });
  });

  it('refuses requests beyond the in-flight limit until some finish', async () => {
    const releases: (() => void)[] = [];
    const gate = new RpcGate(
      () => new Promise((resolve) => releases.push(() => resolve({ ok: true }))),
    );
    const pending = Array.from({ length: RPC_LIMITS.inFlight }, () => gate.answer({}));
    expect(JSON.stringify(await gate.answer({}))).toMatch(/"success":false,"error":".*in flight/);
    releases.splice(0).forEach((release) => release());
    await Promise.all(pending);
    const admitted = gate.answer({});
    expect(releases).toHaveLength(1);
    releases[0]?.();
    expect(await admitted).toEqual({ success: true, payload: { ok: true } });
  });

  it('refuses requests beyond the total per cell', async () => {
    const gate = new RpcGate(() => Promise.resolve({}));
    for (let index = 0; index < RPC_LIMITS.total; index += 1) await gate.answer({});
    expect(JSON.stringify(await gate.answer({}))).toMatch(/"success":false,"error":".*in one call/);
  });

  it('answers a budget of refusals per cell, then drops further requests unanswered', async () => {
    const gate = new RpcGate(() => new Promise(() => undefined)); // never answers
    for (let index = 0; index < RPC_LIMITS.inFlight; index += 1) void gate.answer({});
    for (let index = 0; index < RPC_LIMITS.refused; index += 1) {
      expect(await gate.answer({})).toMatchObject({ success: false });
    }
    expect(await gate.answer({})).toBeUndefined();
    expect(await gate.answer({})).toBeUndefined();
  });

  it('drops an answer that arrives after the cell ended, and aborts its work', async () => {
    let signal: AbortSignal | undefined;
    let release: () => void = () => undefined;
    const gate = new RpcGate((_payload, cellEnded) => {
      signal = cellEnded;
      return new Promise((resolve) => (release = () => resolve({ late: true })));
    });
    const answer = gate.answer({});
    gate.close();
    expect(signal?.aborted).toBe(true);
    release();
    expect(await answer).toBeUndefined();
  });
});
