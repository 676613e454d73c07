import { LineSplitter } from './line-splitter.js';
import { sandboxFrameSchema, type HostFrame, type SandboxFrame } from './frames.js';

/** Lines from the sandbox longer than this are dropped unread (docs/protocol.md). */
export const MAX_SANDBOX_LINE_BYTES = 4 * 1024 * 1024;

export interface FrameReaderOptions {
  onFrame(frame: SandboxFrame): void;
  /** A line that is not a valid frame: dropped; reported so it can be logged. */
  onInvalid(reason: string, sample: string): void;
  maxLineBytes?: number;
}

/**
 * Turns the sandbox's stdout bytes into validated frames. Security: everything here is
 * untrusted; a line is only acted on after it parses and fits its schema.
 */
export class FrameReader {
  readonly #splitter: LineSplitter;

  constructor(options: FrameReaderOptions) {
    this.#splitter = new LineSplitter({
      maxLineBytes: options.maxLineBytes ?? MAX_SANDBOX_LINE_BYTES,
      onOversized: (bytes) => options.onInvalid(`line of ${bytes} bytes exceeds the limit`, ''),
      onLine: (line) => {
        if (line.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          options.onInvalid('not JSON', line.slice(0, 200));
          return;
        }
        const parsed = sandboxFrameSchema.safeParse(value);
        if (parsed.success) options.onFrame(parsed.data);
        else
          options.onInvalid(
            `not a valid frame: ${parsed.error.issues[0]?.message ?? ''}`,
            line.slice(0, 200),
          );
      },
    });
  }

  push(chunk: Buffer): void {
    this.#splitter.push(chunk);
  }
}

export function encodeFrame(frame: HostFrame): string {
  return `${JSON.stringify(frame)}\n`;
}
