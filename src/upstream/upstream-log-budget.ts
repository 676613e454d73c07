/**
 * A byte allowance per time window, so that a chatty or flooding server cannot fill the
 * bridge's log (or its memory): what exceeds the allowance is counted, not kept.
 */
export class LogBudget {
  readonly #bytesPerWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart: number;
  #spent = 0;
  #suppressedItems = 0;
  #suppressedBytes = 0;

  constructor(bytesPerWindow: number, windowMs: number, now: () => number = Date.now) {
    this.#bytesPerWindow = bytesPerWindow;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#windowStart = now();
  }

  /**
   * Whether an item of `bytes` may be logged now. When a new window starts, `onNewWindow`
   * receives what the previous windows suppressed (once), so the caller can say so.
   */
  take(
    bytes: number,
    onNewWindow?: (suppressed: { items: number; bytes: number }) => void,
  ): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#spent = 0;
      if (this.#suppressedItems > 0) {
        onNewWindow?.({ items: this.#suppressedItems, bytes: this.#suppressedBytes });
        this.#suppressedItems = 0;
        this.#suppressedBytes = 0;
      }
    }
    if (this.#spent + bytes > this.#bytesPerWindow) {
      this.#suppressedItems += 1;
      this.#suppressedBytes += bytes;
      return false;
    }
    this.#spent += bytes;
    return true;
  }
}
