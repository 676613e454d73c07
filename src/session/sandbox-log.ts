import type { LogFrame } from '../channel/frames.js';
import type { Logger } from '../logger.js';
import { LogAllowance } from './channel-budget.js';

/**
 * What one sandbox puts in the bridge's log: its `log` frames, the lines it sent that are
 * no valid frame, and its container's stderr. Each kind has its own allowance for the
 * sandbox's life (src/session/channel-budget.ts); past it, one line says so and the rest
 * is dropped, so a sandbox cannot fill the bridge's log.
 */
export class SandboxLog {
  readonly #logger: Logger;
  readonly #frames: LogAllowance;
  readonly #invalid: LogAllowance;
  readonly #stderr: LogAllowance;

  constructor(logger: Logger) {
    this.#logger = logger;
    const notice = (what: string) => () =>
      logger.warn(`sandbox: further ${what} from this sandbox are not logged`);
    this.#frames = new LogAllowance(notice('log frames'));
    this.#invalid = new LogAllowance(notice('invalid lines'));
    this.#stderr = new LogAllowance(notice('stderr writes'));
  }

  frame(frame: LogFrame): void {
    const message = this.#frames.admit(frame.message);
    if (message !== undefined) this.#logger[frame.level]({ sandbox: true }, message);
  }

  /** A line that was dropped: not JSON, not a valid frame, or not allowed where it came. */
  invalid(reason: string, sample: string): void {
    const admitted = this.#invalid.admit(`${reason} ${sample}`);
    if (admitted !== undefined) {
      this.#logger.warn(
        { reason, sample: admitted.slice(reason.length + 1) },
        'dropped an invalid frame from the sandbox',
      );
    }
  }

  stderr(text: string): void {
    const admitted = this.#stderr.admit(text);
    if (admitted !== undefined)
      this.#logger.warn({ stderr: admitted }, 'sandbox wrote to its stderr');
  }
}
