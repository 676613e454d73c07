import { timingSafeEqual } from 'node:crypto';
import type { DisplayLimits, DoneFrame } from '../channel/frames.js';
import { randomHex } from '../util/random-hex.js';
import type { StopReason } from './cancellation.js';
import { DisplayCollector, NO_IMAGES } from './display-collector.js';
import type { ExecutionObserver, ExecutionResult } from './execution.js';
import { OutputCollector } from './output-collector.js';
import type { RpcGate } from './rpc-gate.js';

type Ending = Omit<ExecutionResult, 'stdout' | 'stderr'>;

/** One cell in flight: its output so far, its timers, and the one way it ends. */
export class PendingExecution {
  readonly id: number;
  /** The secret the cell's `done` frame must carry (docs/protocol.md), fresh per cell. */
  readonly doneToken = randomHex(16);
  readonly stdout: OutputCollector;
  readonly stderr: OutputCollector;
  /** The cell's images (within its limits) and notices about them. */
  readonly display: DisplayCollector;
  readonly startedAt = performance.now();
  /** Set when the bridge interrupted the cell: past its timeout, or cancelled by the client. */
  stopReason: StopReason | undefined;
  /** Told of the cell's output and progress (undefined: nobody watches). */
  readonly observer: ExecutionObserver | undefined;
  #timers: NodeJS.Timeout[] = [];
  #cleanups: (() => void)[] = [];
  #settle: ((result: ExecutionResult) => void) | undefined;

  /** The cell's way to the MCP servers (it refuses everything when the call loaded none). */
  readonly rpc: RpcGate;

  constructor(
    id: number,
    maxOutputChars: number,
    rpc: RpcGate,
    settle: (result: ExecutionResult) => void,
    observer?: ExecutionObserver,
    display: DisplayLimits = NO_IMAGES,
  ) {
    this.id = id;
    this.observer = observer;
    this.rpc = rpc;
    this.stdout = new OutputCollector(maxOutputChars);
    this.stderr = new OutputCollector(maxOutputChars);
    this.display = new DisplayCollector(display);
    this.#settle = settle;
  }

  get finished(): boolean {
    return this.#settle === undefined;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  after(ms: number, action: () => void): void {
    this.#timers.push(setTimeout(action, ms));
  }

  /** Runs `cleanup` when the cell ends (e.g. stop listening for its cancellation). */
  onFinish(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  /** Ends the cell once; later calls are ignored (e.g. a late `done` after a kill). */
  finish(ending: Ending, dropped?: DoneFrame['dropped']): void {
    const settle = this.#settle;
    if (!settle) return;
    this.#settle = undefined;
    this.#timers.forEach(clearTimeout);
    this.#cleanups.forEach((cleanup) => cleanup());
    this.rpc.close();
    settle({
      ...ending,
      stdout: this.stdout.text(dropped?.stdout),
      stderr: this.stderr.text(dropped?.stderr),
      display: this.display.result(),
    });
  }

  /**
   * Ends the cell as its `done` frame says, if the frame carries the cell's token; false
   * (and nothing happens) if not. Security: user code can write a `done` on the channel,
   * but it is never handed the token, so it cannot end its call (and its timeout) early.
   */
  finishFromDone(frame: DoneFrame): boolean {
    if (!sameToken(frame.token, this.doneToken)) return false;
    const outcome =
      frame.outcome === 'interrupted' && this.stopReason
        ? this.stopReason
        : frame.outcome === 'completed'
          ? 'completed'
          : 'exception';
    const ending = { durationMs: frame.durationMs, lostReason: undefined, outOfMemory: false };
    this.finish({ ...ending, outcome, exitCode: frame.exitCode }, frame.dropped);
    return true;
  }
}

/** Compares in constant time (the sandbox is the other party). */
function sameToken(received: string, expected: string): boolean {
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
