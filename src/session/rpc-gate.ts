import { errorMessage } from '../errors.js';
import type { ClockHold } from './cell-clock.js';

/**
 * Answers the sandbox's requests for one cell; throws to answer with an error. `signal`
 * aborts when the cell ends, so work nobody will read (a hung tool call) is cancelled.
 * `clock` holds the cell's timeout while the bridge waits for a person (approvals).
 */
export type RpcHandler = (
  payload: Record<string, unknown>,
  signal: AbortSignal,
  clock?: ClockHold,
) => Promise<Record<string, unknown>>;

/** The handler of a call that loaded no servers: every request gets this error. */
export const refuseWithoutServers: RpcHandler = () =>
  Promise.reject(
    new Error(
      "No MCP servers are loaded in this call: list them in run_python's `servers` argument.",
    ),
  );

export type RpcAnswer =
  { success: true; payload: Record<string, unknown> } | { success: false; error: string };

export const RPC_LIMITS = {
  /** Requests of one cell waiting for an answer at the same time. */
  inFlight: 64,
  /** Requests one cell may make in all. */
  total: 10_000,
  /**
   * Requests of one cell refused for the two limits above that still get an answer;
   * later ones are dropped unanswered (the runner's call fails when its cell ends). The
   * runner holds its requests back at the in-flight limit, so only code that ignores a
   * thousand refusals of the total gets here.
   */
  refused: 1_000,
} as const;

/**
 * Admits one cell's RPC requests within bounds and hands them to the handler. Security:
 * the sandbox decides how many requests it sends, so a loop of requests must hit a limit
 * rather than the host's memory or the upstream servers; and past a budget of refusals,
 * a flood is not even answered.
 */
export class RpcGate {
  readonly #handler: RpcHandler;
  readonly #clock: ClockHold | undefined;
  /** Made at the cell's first request: most cells send none, and pay nothing for it. */
  #cellEnded: AbortController | undefined;
  #inFlight = 0;
  #total = 0;
  #refused = 0;
  #closed = false;

  constructor(handler: RpcHandler, clock?: ClockHold) {
    this.#handler = handler;
    this.#clock = clock;
  }

  /** No answer is delivered after the cell ended: `answer` resolves to undefined then. */
  close(): void {
    this.#closed = true;
    this.#cellEnded?.abort(new Error('the run_python call ended'));
  }

  /** Aborts when the cell ends (at once for a gate already closed). */
  get #signal(): AbortSignal {
    if (!this.#cellEnded) {
      this.#cellEnded = new AbortController();
      if (this.#closed) this.#cellEnded.abort(new Error('the run_python call ended'));
    }
    return this.#cellEnded.signal;
  }

  /** Undefined: no answer is sent (the cell ended, or it is past the refusal budget). */
  async answer(payload: Record<string, unknown>): Promise<RpcAnswer | undefined> {
    if (this.#inFlight >= RPC_LIMITS.inFlight) {
      return this.#refuse(
        `Too many MCP requests in flight (limit ${RPC_LIMITS.inFlight} per call); await some before sending more.`,
      );
    }
    if (this.#total >= RPC_LIMITS.total) {
      return this.#refuse(
        `Too many MCP requests in one call (limit ${RPC_LIMITS.total}); split the work across calls.`,
      );
    }
    this.#inFlight += 1;
    this.#total += 1;
    let answer: RpcAnswer;
    try {
      answer = { success: true, payload: await this.#handler(payload, this.#signal, this.#clock) };
    } catch (error: unknown) {
      answer = { success: false, error: errorMessage(error) };
    } finally {
      this.#inFlight -= 1;
    }
    return this.#closed ? undefined : answer;
  }

  #refuse(error: string): RpcAnswer | undefined {
    this.#refused += 1;
    if (this.#closed || this.#refused > RPC_LIMITS.refused) return undefined;
    return { success: false, error };
  }
}
