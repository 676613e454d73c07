import { describe, expect, it } from 'vitest';
import {
  cancelKillMessage,
  cancelledBeforeStart,
  cancelledStateLostNotice,
  whenAborted,
} from '../../../src/session/cancellation.js';

describe('cancellation', () => {
  it('runs the action once when the signal aborts, and not after it stopped listening', () => {
    const controller = new AbortController();
    let runs = 0;
    whenAborted(controller.signal, () => (runs += 1));
    controller.abort();
    controller.abort();
    expect(runs).toBe(1);

    const later = new AbortController();
    const stop = whenAborted(later.signal, () => (runs += 1));
    stop();
    later.abort();
    expect(runs).toBe(1);
    expect(whenAborted(undefined, () => (runs += 1))).toBeTypeOf('function');
  });

  it('says a call cancelled before it started did not run, with nothing lost', () => {
    expect(cancelledBeforeStart()).toMatchObject({
      outcome: 'cancelled',
      exitCode: undefined,
      lostReason: undefined,
    });
  });

  it('tells the next call why its state is gone', () => {
    const reason = cancelKillMessage(2, false);
    expect(reason).toMatch(/ignored the interrupt for 2s/);
    expect(cancelKillMessage(2, true)).toMatch(/stopped reading its channel/);
    expect(cancelledStateLostNotice(reason)).toMatch(
      /^An earlier call was cancelled by the client\. The call was cancelled.* fresh sandbox/,
    );
  });
});
