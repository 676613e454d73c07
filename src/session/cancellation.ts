import type { ExecutionResult } from './execution.js';

/**
 * Cancellation of a cell by the client (MCP `notifications/cancelled`, or the client gone):
 * the results and messages it gives. The mechanics are the timeout's (live-sandbox.ts).
 */

/** Why a cell was interrupted: its timeout, or the client cancelling the call. */
export type StopReason = 'timeout' | 'cancelled';

const STATE_LOST = 'the session state (variables, imports) was lost.';

/** The result of a call cancelled before its cell started: its code never ran. */
export function cancelledBeforeStart(): ExecutionResult {
  return {
    outcome: 'cancelled',
    exitCode: undefined,
    stdout: '',
    stderr: '',
    durationMs: 0,
    lostReason: undefined,
    outOfMemory: false,
  };
}

/** How a cancelled cell ends when its sandbox is removed first (the bridge closing). */
export function cancelledEnding(durationMs: number): Omit<ExecutionResult, 'stdout' | 'stderr'> {
  return {
    outcome: 'cancelled',
    exitCode: undefined,
    durationMs,
    lostReason: `The call was cancelled and its sandbox removed (the bridge is closing): ${STATE_LOST}`,
    outOfMemory: false,
  };
}

/** Why the bridge killed a sandbox whose cancelled cell ignored the interrupt. */
export function cancelKillMessage(graceSeconds: number, unread: boolean): string {
  return unread
    ? `The call was cancelled, and the sandbox stopped reading its channel (the interrupt was still waiting ${graceSeconds}s later), so it was killed and restarted: ${STATE_LOST}`
    : `The call was cancelled, and its code ignored the interrupt for ${graceSeconds}s (e.g. a long C-level loop), so the sandbox was killed and restarted: ${STATE_LOST}`;
}

/**
 * What the next call is told after a cancelled call cost the session its state: the
 * client never sees a cancelled call's own result (MCP drops it).
 */
export function cancelledStateLostNotice(lostReason: string): string {
  return `An earlier call was cancelled by the client. ${lostReason} This call runs in a fresh sandbox, so earlier variables and imports are gone.`;
}

/** Runs `action` once when `signal` aborts; returns the function that stops listening. */
export function whenAborted(signal: AbortSignal | undefined, action: () => void): () => void {
  if (!signal) return () => undefined;
  signal.addEventListener('abort', action, { once: true });
  return () => signal.removeEventListener('abort', action);
}
