/**
 * How much one sandbox may make the bridge do without a call asking for it: log lines,
 * and answers to requests that are refused. Security: the sandbox decides how many
 * frames it writes; each kind gets an allowance, and what exceeds it is dropped (said
 * once), so a flood costs the bridge neither its log nor its memory.
 */
export const CHANNEL_BUDGETS = {
  /** Per sandbox and per kind (log frames, invalid lines, stderr): lines logged... */
  logLines: 200,
  /** ...and characters logged (each line is clipped before it is counted). */
  logChars: 64 * 1024,
  /** Characters of one logged message or sample. */
  logLineChars: 2000,
  /**
   * Per sandbox: requests for a cell that is not running that are still answered (with
   * a refusal). An honest runner never sends one: it sends a cell's requests before the
   * cell's `done`, on the same ordered channel.
   */
  refusedForEndedCells: 100,
} as const;

/** An allowance that runs out for good; `take` says once when it did. */
export class Budget {
  readonly #limit: number;
  #used = 0;
  #exhausted = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get exhausted(): boolean {
    return this.#exhausted;
  }

  /**
   * True if `amount` fits in what is left (and spends it). The first time it does not,
   * `onExhausted` runs; from then on nothing fits.
   */
  take(amount: number, onExhausted?: () => void): boolean {
    if (!this.#exhausted && this.#used + amount <= this.#limit) {
      this.#used += amount;
      return true;
    }
    if (!this.#exhausted) {
      this.#exhausted = true;
      onExhausted?.();
    }
    return false;
  }
}

/** One kind of sandbox output that goes to the bridge's log: a line and a character budget. */
export class LogAllowance {
  readonly #lines = new Budget(CHANNEL_BUDGETS.logLines);
  readonly #chars = new Budget(CHANNEL_BUDGETS.logChars);
  readonly #onExhausted: () => void;

  /** `onExhausted` logs the one line saying that further ones are not logged. */
  constructor(onExhausted: () => void) {
    this.#onExhausted = onExhausted;
  }

  /** `text` clipped to the line limit if it may be logged, undefined if not. */
  admit(text: string): string | undefined {
    const clipped = text.slice(0, CHANNEL_BUDGETS.logLineChars);
    // Both budgets are checked before either is spent, and the notice is given once.
    if (this.#lines.exhausted || this.#chars.exhausted) return undefined;
    const fits = this.#chars.take(clipped.length, this.#onExhausted);
    if (!fits) return undefined;
    if (!this.#lines.take(1, this.#onExhausted)) return undefined;
    return clipped;
  }
}
