const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines with a hard cap on line length. An oversized line is
 * skipped as it streams past, never buffered whole: a sandbox printing a 1 GB line must
 * not cost the host 1 GB.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOversized: (droppedBytes: number) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #skipping = false;
  #skippedBytes = 0;

  constructor(options: {
    maxLineBytes: number;
    onLine: (line: string) => void;
    onOversized: (droppedBytes: number) => void;
  }) {
    this.#maxLineBytes = options.maxLineBytes;
    this.#onLine = options.onLine;
    this.#onOversized = options.onOversized;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      if (this.#pendingBytes === 0 && !this.#skipping && newline - start <= this.#maxLineBytes) {
        // The whole line is in this chunk: decoded from it directly, not copied first.
        this.#onLine(chunk.toString('utf8', start, newline));
      } else {
        this.#append(chunk.subarray(start, newline));
        this.#finishLine();
      }
      start = newline + 1;
    }
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#skipping) {
      this.#skippedBytes += piece.length;
      return;
    }
    if (this.#pendingBytes + piece.length > this.#maxLineBytes) {
      this.#skipping = true;
      this.#skippedBytes = this.#pendingBytes + piece.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // Copy: the caller may reuse its buffer after push() returns.
    this.#pending.push(Buffer.from(piece));
    this.#pendingBytes += piece.length;
  }

  #finishLine(): void {
    if (this.#skipping) {
      this.#onOversized(this.#skippedBytes);
      this.#skipping = false;
      this.#skippedBytes = 0;
      return;
    }
    const line =
      this.#pending.length === 1
        ? (this.#pending[0] as Buffer).toString('utf8')
        : Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onLine(line);
  }
}
