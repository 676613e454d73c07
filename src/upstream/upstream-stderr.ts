import type { Readable } from 'node:stream';
import type { Logger } from '../logger.js';
import { LogBudget } from './upstream-log-budget.js';

const TAIL_LINES = 20;
const MAX_LINE_CHARS = 500;
const MAX_PARTIAL_BYTES = 8 * 1024;
const LOG_BYTES_PER_MINUTE = 64 * 1024;

/**
 * Reads a spawned server's stderr: each line goes to the log at debug level (within a
 * per-minute byte allowance), and the last few lines are kept for error messages.
 * Memory stays bounded whatever the server writes.
 */
export class StderrTail {
  readonly #logger: Logger;
  readonly #budget = new LogBudget(LOG_BYTES_PER_MINUTE, 60_000);
  readonly #tail: string[] = [];
  #partial = '';

  constructor(stream: Readable, logger: Logger) {
    this.#logger = logger;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.#onData(chunk));
    stream.on('end', () => this.#flushPartial());
    stream.on('error', () => {
      // The process is going away; its exit is reported elsewhere.
    });
  }

  /** The last lines the server wrote to stderr (each cut to a readable length). */
  lastLines(): string[] {
    return this.#partial
      ? [...this.#tail, clip(this.#partial)].slice(-TAIL_LINES)
      : [...this.#tail];
  }

  #onData(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    if (this.#partial.length > MAX_PARTIAL_BYTES) {
      lines.push(this.#partial);
      this.#partial = '';
    }
    // Under a flood only the newest lines can still matter for the tail.
    const firstKept = Math.max(0, lines.length - TAIL_LINES);
    for (let index = 0; index < lines.length; index += 1) {
      this.#onLine(lines[index] ?? '', index >= firstKept);
    }
  }

  #flushPartial(): void {
    if (this.#partial) this.#onLine(this.#partial, true);
    this.#partial = '';
  }

  #onLine(raw: string, keep: boolean): void {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const clipped = clip(line);
    if (keep) {
      this.#tail.push(clipped);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    }
    if (!this.#logger.isLevelEnabled('debug')) return;
    const allowed = this.#budget.take(clipped.length, (suppressed) =>
      this.#logger.debug(
        { suppressedLines: suppressed.items, suppressedChars: suppressed.bytes },
        'upstream stderr: lines over the per-minute allowance were not logged',
      ),
    );
    if (allowed) this.#logger.debug({ stderr: clipped }, 'upstream stderr');
  }
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}
