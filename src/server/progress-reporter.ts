import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionObserver } from '../session/execution.js';
import { cut, OutputTail, SHOWN_LINE_CHARS } from './output-tail.js';

/** At most one elapsed-time notification per this many ms (MCP progress, while code runs). */
export const HEARTBEAT_INTERVAL_MS = 1000;
/**
 * At most one notification from `runtime.progress()` per this many ms: the first goes out
 * at once, later ones within the interval are folded into the latest, sent when it ends.
 * The sandbox's code is hostile: a loop calling it a million times costs the client at
 * most 5 notifications a second.
 */
export const CODE_PROGRESS_INTERVAL_MS = 200;

export type ProgressToken = string | number;

/** The params of a `notifications/progress`, without the token. */
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
  /** `session`: the call's named session (run_python's `session`), once known. */
  _meta: { elapsedSeconds: number; outputLines: number; session?: string };
}

/** What `runtime.progress(done, total, message)` sent, as validated from its frame. */
export interface CodeProgress {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/**
 * Sends MCP progress notifications for one tools/call whose request carried
 * `_meta.progressToken`. Until the code reports its own progress (runtime.progress), one
 * notification a second says how long it has run (`progress`: whole seconds, increasing),
 * its last stdout line (`message`) and how many lines it printed (`_meta.outputLines`).
 * Once the code reports, only its reports are sent (rate-limited), so the values the
 * client sees are the code's own. Nothing is sent after stop().
 */
export class ProgressReporter implements ExecutionObserver {
  readonly #send: (update: ProgressUpdate) => void;
  readonly #now: () => number;
  readonly #tail = new OutputTail();
  #startedAt: number | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #lastBeat = 0;
  #codeReports = false;
  #pending: CodeProgress | undefined;
  #pendingTimer: NodeJS.Timeout | undefined;
  #lastCodeSentAt = Number.NEGATIVE_INFINITY;
  #stopped = false;
  #session: string | undefined;

  constructor(send: (update: ProgressUpdate) => void, now: () => number = () => performance.now()) {
    this.#send = send;
    this.#now = now;
  }

  /** The call's session, carried in every later notification's `_meta.session`. */
  inSession(name: string): void {
    this.#session = name;
  }

  started(): void {
    if (this.#stopped || this.#startedAt !== undefined) return;
    this.#startedAt = this.#now();
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_INTERVAL_MS);
  }

  output(stream: 'stdout' | 'stderr', text: string): void {
    if (!this.#stopped) this.#tail.add(stream, text);
  }

  progress(report: CodeProgress): void {
    if (this.#stopped) return;
    this.#codeReports = true;
    this.#pending = report;
    if (this.#pendingTimer) return; // the latest report goes out when the interval ends
    const wait = this.#lastCodeSentAt + CODE_PROGRESS_INTERVAL_MS - this.#now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#pendingTimer = setTimeout(() => {
      this.#pendingTimer = undefined;
      this.#flush();
    }, wait);
  }

  /** The call ended: nothing more is sent (a report still waiting is dropped). */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#pendingTimer);
    this.#pending = undefined;
  }

  #flush(): void {
    const report = this.#pending;
    this.#pending = undefined;
    if (!report || this.#stopped) return;
    this.#lastCodeSentAt = this.#now();
    const message =
      report.message === undefined ? undefined : cut(report.message, SHOWN_LINE_CHARS);
    this.#send({
      progress: report.progress,
      ...(report.total === undefined ? {} : { total: report.total }),
      ...(message === undefined ? {} : { message }),
      _meta: this.#meta(),
    });
  }

  #beat(): void {
    if (this.#stopped || this.#codeReports || this.#startedAt === undefined) return;
    const seconds = Math.floor((this.#now() - this.#startedAt) / 1000);
    if (seconds <= this.#lastBeat) return; // progress must increase
    this.#lastBeat = seconds;
    const message = this.#tail.lastLine;
    this.#send({ progress: seconds, ...(message ? { message } : {}), _meta: this.#meta() });
  }

  #meta(): ProgressUpdate['_meta'] {
    const elapsedMs = this.#startedAt === undefined ? 0 : this.#now() - this.#startedAt;
    return {
      elapsedSeconds: Math.round(elapsedMs / 100) / 10,
      outputLines: this.#tail.lines,
      ...(this.#session === undefined ? {} : { session: this.#session }),
    };
  }
}

/**
 * The reporter for one tools/call, or undefined when its request asked for no progress.
 * `notify` is the request handler's `extra.sendNotification` (MCP SDK): it ties each
 * notification to the request and sends nothing once the request is cancelled.
 */
export function progressReporterFor(
  progressToken: unknown,
  notify: (notification: ServerNotification) => Promise<void>,
  onError: (error: unknown) => void,
): ProgressReporter | undefined {
  if (typeof progressToken !== 'string' && typeof progressToken !== 'number') return undefined;
  return new ProgressReporter((update) => {
    notify({ method: 'notifications/progress', params: { progressToken, ...update } }).catch(
      onError,
    );
  });
}
