import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../../src/upstream/upstream-backoff.js';

describe('RestartBackoff', () => {
  it('waits schedule[n-1] after the n-th failure in a row, repeating the last entry', () => {
    let now = 0;
    const backoff = new RestartBackoff([0, 1_000, 5_000], () => now);
    expect(backoff.refusal()).toBeUndefined();
    backoff.recordFailure('exited unexpectedly\nmore detail');
    expect(backoff.remainingMs()).toBe(0);
    backoff.recordFailure('exited unexpectedly');
    expect(backoff.remainingMs()).toBe(1_000);
    expect(backoff.refusal()).toBe(
      'failed 2 times in a row (last: exited unexpectedly). ' +
        'It can be retried in 1 s (after 1970-01-01T00:00:01.000Z).',
    );
    now = 1_000;
    backoff.recordFailure('x');
    backoff.recordFailure('x');
    expect(backoff.remainingMs()).toBe(5_000);
    backoff.reset();
    expect(backoff.remainingMs()).toBe(0);
  });
});
