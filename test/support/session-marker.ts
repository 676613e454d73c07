import { expect } from 'vitest';
import { describeResult, payloadOf, statusOf, type BridgeHandle } from './bridge-client.js';

/**
 * A variable set in the session before an attack, read back after it: it tells whether the
 * next call ran in the same sandbox (state kept) or in a fresh one (state lost, announced).
 */

const READ_MARKER = 'print("ATTACK_MARKER" in globals() and ATTACK_MARKER)';

/** Sets the marker to `value` (a plain string) and checks the call went through. */
export async function setMarker(bridge: BridgeHandle, value: string): Promise<void> {
  const result = await bridge.run({ code: `ATTACK_MARKER = ${JSON.stringify(value)}` });
  expect(statusOf(result), describeResult(result)).toBe('success');
}

/** The next call works and still sees the marker: the attack cost the session nothing. */
export async function expectSessionKept(bridge: BridgeHandle, value: string): Promise<void> {
  const next = await bridge.run({ code: READ_MARKER });
  expect(statusOf(next), describeResult(next)).toBe('success');
  expect(payloadOf(next).stdout).toEqual([value]);
}

/** The next call works in a fresh sandbox: the marker is gone. */
export async function expectFreshSession(bridge: BridgeHandle): Promise<void> {
  const next = await bridge.run({ code: READ_MARKER });
  expect(statusOf(next), describeResult(next)).toBe('success');
  expect(payloadOf(next).stdout).toEqual(['False']);
}
