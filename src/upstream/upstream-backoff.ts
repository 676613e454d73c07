import { formatDuration } from './upstream-messages.js';

/**
 * Consecutive failures of one server and when it may be started again: the n-th failure
 * in a row waits `schedule[n-1]` (the last entry repeats); any success resets the count.
 */
export class RestartBackoff {
  readonly #schedule: readonly number[];
  readonly #now: () => number;
  #count = 0;
  #at = 0;
  #reason = '';

  constructor(schedule: readonly number[], now: () => number = Date.now) {
    this.#schedule = schedule;
    this.#now = now;
  }

  recordFailure(reason: string): void {
    this.#count += 1;
    this.#at = this.#now();
    this.#reason = reason.split('\n', 1)[0] ?? reason;
  }

  reset(): void {
    this.#count = 0;
  }

  /** Milliseconds until a start is allowed (0: now). */
  remainingMs(): number {
    if (this.#count === 0) return 0;
    const delay = this.#schedule[Math.min(this.#count - 1, this.#schedule.length - 1)] ?? 0;
    return Math.max(0, this.#at + delay - this.#now());
  }

  /** "in 5 s (after 2026-…Z)", for messages; only meaningful while `remainingMs() > 0`. */
  retryWhen(): string {
    const wait = this.remainingMs();
    return `in ${formatDuration(wait)} (after ${new Date(this.#now() + wait).toISOString()})`;
  }

  /** Why a start is refused now, or undefined if it is allowed. */
  refusal(): string | undefined {
    if (this.remainingMs() === 0) return undefined;
    return (
      `failed ${this.#count} times in a row (last: ${this.#reason}). ` +
      `It can be retried ${this.retryWhen()}.`
    );
  }
}
