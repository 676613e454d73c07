/**
 * What a cell's request handler may do with the cell's timeout: hold it while the bridge
 * waits for a person (an approval prompt), so that wait does not count against the call.
 * Security: only host code is handed this; nothing the sandbox sends can hold the clock.
 */
export interface ClockHold {
  /** Stops the clock until the returned release is called (once; later calls do nothing). */
  hold(): () => void;
}

/**
 * A cell's timeout: one timer that fires `action` after `ms` of running time. Holds nest
 * (several prompts can be waiting); the clock runs again when the last is released.
 */
export class CellClock implements ClockHold {
  readonly #action: () => void;
  #remainingMs: number;
  #armedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #holds = 0;
  #over = false;

  constructor(ms: number, action: () => void) {
    this.#action = action;
    this.#remainingMs = ms;
    this.#arm();
  }

  /** Whether a hold stops the clock right now. */
  get held(): boolean {
    return this.#holds > 0;
  }

  hold(): () => void {
    if (this.#over) return () => undefined;
    this.#holds += 1;
    if (this.#holds === 1 && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#remainingMs = Math.max(0, this.#remainingMs - (performance.now() - this.#armedAt));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#over) this.#arm();
    };
  }

  /** The cell ended: the timer never fires. */
  stop(): void {
    this.#over = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#armedAt = performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#over = true;
      this.#action();
    }, this.#remainingMs);
  }
}
