/** Where a BoundedWriter writes: the socket lane, or the container's attached stdin. */
export interface ByteSink {
  /** False: the sink's buffer is full; wait for 'drain' before writing more. */
  write(chunk: string): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/**
 * Frames waiting toward one sandbox, behind what its socket already holds, are capped at
 * this. Chosen well above what an honest runner ever leaves unread: its reader thread
 * consumes frames as they come, so waiting frames pile up only behind one large frame in
 * transit (a boot frame with saved tools, an execute frame with up to 4 Mi characters of
 * code, a large tool result) or a burst of answers (at most 64 in flight per cell). A
 * single frame larger than the cap is still sent when nothing waits before it, so no
 * legitimate frame is refused for its size alone. What the bridge holds for one sandbox is
 * then at most about twice the cap plus the one large frame it built anyway.
 */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * Writes lines to a sink while respecting its back-pressure: once the sink says it is
 * full, lines wait here until it drains, and all of them go out together. Security: a
 * sandbox that stops reading must not make the bridge hold its frames without limit; when
 * the waiting lines would pass `maxQueuedBytes`, the writer stops for good and reports an
 * overflow (the caller then replaces the sandbox).
 */
export class BoundedWriter {
  readonly #sink: ByteSink;
  readonly #maxQueuedBytes: number;
  readonly #onOverflow: (queuedBytes: number) => void;
  #waiting: string[] = [];
  #queuedBytes = 0;
  #blocked = false;
  #overflowed = false;

  constructor(
    sink: ByteSink,
    options: { maxQueuedBytes?: number; onOverflow: (queuedBytes: number) => void },
  ) {
    this.#sink = sink;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.#onOverflow = options.onOverflow;
    sink.once('close', () => this.#discard());
  }

  /** Bytes waiting here for the sink to drain (not counting what the sink holds). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Whether the sink is full and has not drained since: the reader is behind, or stopped. */
  get backedUp(): boolean {
    return this.#blocked && !this.#sink.destroyed;
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Sends `line` now or after the sink drains; false when it is dropped (overflow, closed). */
  write(line: string): boolean {
    if (this.#overflowed || this.#sink.destroyed) return false;
    if (!this.#blocked) {
      if (!this.#sink.write(line)) this.#block();
      return true;
    }
    const bytes = Buffer.byteLength(line);
    if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > this.#maxQueuedBytes) {
      const queued = this.#queuedBytes + bytes;
      this.#overflowed = true;
      this.#discard();
      this.#onOverflow(queued);
      return false;
    }
    this.#waiting.push(line);
    this.#queuedBytes += bytes;
    return true;
  }

  #block(): void {
    this.#blocked = true;
    this.#sink.once('drain', () => this.#flush());
  }

  #flush(): void {
    this.#blocked = false;
    if (this.#overflowed || this.#waiting.length === 0) return;
    const lines = this.#waiting.join('');
    this.#waiting = [];
    this.#queuedBytes = 0;
    if (!this.#sink.destroyed && !this.#sink.write(lines)) this.#block();
  }

  #discard(): void {
    this.#waiting = [];
    this.#queuedBytes = 0;
  }
}
