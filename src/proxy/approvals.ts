import type { ApprovalMode } from '../config/approvals-env.js';
import { errorMessage } from '../errors.js';
import { deferred } from '../util/deferred.js';
import type { ClockHold } from '../session/cell-clock.js';
import { approvalMessage } from './approval-message.js';
import type { PolicyDecision } from './tool-policy.js';

/**
 * The audit trail's `approval` column (README, "Audit trail"): how a call was let through
 * or why not. `none`: the policy allowed it by default; `allowed`: an allow pattern;
 * `asked-allowed` / `asked-allowed-session`: a person allowed it once / for the session;
 * `session`: allowed earlier for this session; `denied`: a deny pattern, or a person
 * chose deny; `declined`: the person declined or dismissed the prompt, or the call asked
 * too often; `timeout`: nobody answered in time; `cancelled`: the call ended while it
 * waited; `unapproved`: it needed asking and the client cannot be asked (ran in `ask`
 * mode, refused in `strict`); `off`: it needed asking and MCP_BRIDGE_APPROVALS=off.
 */
export type ApprovalRecord =
  | 'none'
  | 'allowed'
  | 'asked-allowed'
  | 'asked-allowed-session'
  | 'session'
  | 'denied'
  | 'declined'
  | 'timeout'
  | 'cancelled'
  | 'unapproved'
  | 'off';

/** A person's answer to a prompt. */
export type PersonAnswer = 'allow-once' | 'allow-session' | 'deny' | 'declined';

/**
 * The way to a person: MCP elicitation through the bridge's own MCP server (src/app.ts
 * builds it from the SDK Server). `ask` rejects when `signal` aborts.
 */
export interface PersonAsker {
  /** Whether the client declared the elicitation capability. */
  canAsk(): boolean;
  ask(message: string, signal: AbortSignal): Promise<PersonAnswer>;
}

export interface ApprovalOutcome {
  run: boolean;
  approval: ApprovalRecord;
  /** Why not, for the MCPError the code sees (always starts with "declined" or "denied"). */
  refusal?: string;
}

/** Prompts one call's code may cause; further asks in that call are declined unasked. */
export const MAX_PROMPTS_PER_CALL = 32;

/**
 * Approvals for the whole bridge: the choices remembered per (session, server, tool),
 * and one prompt at a time (several calls asking at once wait their turn, in order).
 */
export class ApprovalDesk {
  readonly mode: ApprovalMode;
  readonly timeoutMs: number;
  readonly #asker: PersonAsker;
  readonly #remembered = new Set<string>();
  /** Settles when the prompt last in line is answered. */
  #line: Promise<void> = Promise.resolve();

  constructor(options: { mode: ApprovalMode; timeoutMs: number; asker: PersonAsker }) {
    this.mode = options.mode;
    this.timeoutMs = options.timeoutMs;
    this.#asker = options.asker;
  }

  /** The approvals of one run_python call in `session`. */
  forCall(session: string): CallApprovals {
    return new CallApprovals(this, session);
  }

  canAsk(): boolean {
    return this.#asker.canAsk();
  }

  remembered(key: string): boolean {
    return this.#remembered.has(key);
  }

  remember(key: string): void {
    this.#remembered.add(key);
  }

  /**
   * Waits for its turn (abortable), then runs `prompt`. Whatever happens, the next in line
   * goes on once this one and those before it are done.
   */
  async inTurn<T>(signal: AbortSignal, prompt: () => Promise<T>): Promise<T> {
    const before = this.#line;
    const mine = deferred<void>();
    this.#line = before.then(() => mine.promise);
    try {
      await untilAborted(before, signal);
      return await prompt();
    } finally {
      mine.resolve();
    }
  }

  ask(message: string, signal: AbortSignal): Promise<PersonAnswer> {
    return this.#asker.ask(message, signal);
  }
}

/** Resolves with `promise`, or rejects with the signal's reason when it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * One run_python call's approvals: decides each proxied call from the policy's verdict,
 * asks when it must, and counts what ran unapproved for the result's notice.
 */
export class CallApprovals {
  readonly #desk: ApprovalDesk;
  readonly #session: string;
  readonly #unapproved = new Map<string, number>();
  #prompts = 0;
  /** A prompt of this call went unanswered: nobody is there, later asks are not shown. */
  #unanswered = false;

  constructor(desk: ApprovalDesk, session: string) {
    this.#desk = desk;
    this.#session = session;
  }

  async decide(
    call: { server: string; tool: string; args: Record<string, unknown>; argumentBytes: number },
    policy: PolicyDecision,
    wait: { signal: AbortSignal; clock: ClockHold | undefined },
  ): Promise<ApprovalOutcome> {
    const { server, tool } = call;
    if (policy.verdict === 'deny') {
      return {
        run: false,
        approval: 'denied',
        refusal: `denied: the bridge's policy for server '${server}' refuses the tool '${tool}' (${policy.reason})`,
      };
    }
    if (policy.verdict === 'allow') {
      return { run: true, approval: policy.byPattern ? 'allowed' : 'none' };
    }
    const key = JSON.stringify([this.#session, server, tool]);
    if (this.#desk.remembered(key)) return { run: true, approval: 'session' };
    if (this.#desk.mode === 'off') return { run: true, approval: 'off' };
    if (!this.#desk.canAsk()) {
      if (this.#desk.mode === 'strict') {
        return {
          run: false,
          approval: 'unapproved',
          refusal: `declined: '${tool}' of server '${server}' needs a person's approval (${policy.reason}), and this MCP client cannot ask (it did not declare elicitation); MCP_BRIDGE_APPROVALS=strict refuses such calls`,
        };
      }
      const name = `${server}.${tool}`;
      this.#unapproved.set(name, (this.#unapproved.get(name) ?? 0) + 1);
      return { run: true, approval: 'unapproved' };
    }
    return this.#ask(call, policy, key, wait);
  }

  /**
   * Security: only a prompt on the person's screen holds the cell's clock; not the wait
   * in line, nor an ask refused without a prompt (code that asks in a loop would
   * otherwise keep the clock held). So a cell gains at most MCP_BRIDGE_APPROVAL_TIMEOUT
   * per prompt, MAX_PROMPTS_PER_CALL prompts, and no prompt after one went unanswered.
   */
  async #ask(
    call: { server: string; tool: string; args: Record<string, unknown>; argumentBytes: number },
    policy: PolicyDecision,
    key: string,
    wait: { signal: AbortSignal; clock: ClockHold | undefined },
  ): Promise<ApprovalOutcome> {
    const { server, tool } = call;
    const seconds = this.#desk.timeoutMs / 1000;
    try {
      return await this.#desk.inTurn(wait.signal, async (): Promise<ApprovalOutcome> => {
        // Another prompt may have allowed it for the session meanwhile.
        if (this.#desk.remembered(key)) return { run: true, approval: 'session' };
        if (this.#unanswered) {
          return {
            run: false,
            approval: 'timeout',
            refusal: `declined: an earlier approval request of this run_python call got no answer in ${seconds} s, so '${tool}' of server '${server}' was not asked about`,
          };
        }
        if (this.#prompts >= MAX_PROMPTS_PER_CALL) {
          return {
            run: false,
            approval: 'declined',
            refusal: `declined: this run_python call already asked for approval ${MAX_PROMPTS_PER_CALL} times; split the work across calls`,
          };
        }
        this.#prompts += 1;
        const timer = AbortSignal.timeout(this.#desk.timeoutMs);
        let answer: PersonAnswer;
        const release = wait.clock?.hold() ?? (() => undefined);
        try {
          answer = await this.#desk.ask(
            approvalMessage({ ...call, reason: policy.reason }),
            AbortSignal.any([wait.signal, timer]),
          );
        } catch (error: unknown) {
          if (timer.aborted && !wait.signal.aborted) {
            this.#unanswered = true;
            return {
              run: false,
              approval: 'timeout',
              refusal: `declined: nobody answered the approval request for '${tool}' of server '${server}' within ${seconds} s (MCP_BRIDGE_APPROVAL_TIMEOUT)`,
            };
          }
          if (wait.signal.aborted) throw error;
          // A client that fails the request (or answers outside the schema) approved nothing.
          return {
            run: false,
            approval: 'declined',
            refusal: `declined: the approval request for '${tool}' of server '${server}' failed: ${errorMessage(error)}`,
          };
        } finally {
          release();
        }
        return this.#answered(answer, key, server, tool);
      });
    } catch (error: unknown) {
      if (!wait.signal.aborted) throw error;
      return {
        run: false,
        approval: 'cancelled',
        refusal: `declined: the run_python call ended while '${tool}' waited for approval`,
      };
    }
  }

  #answered(answer: PersonAnswer, key: string, server: string, tool: string): ApprovalOutcome {
    switch (answer) {
      case 'allow-once':
        return { run: true, approval: 'asked-allowed' };
      case 'allow-session':
        this.#desk.remember(key);
        return { run: true, approval: 'asked-allowed-session' };
      case 'deny':
        return {
          run: false,
          approval: 'denied',
          refusal: `declined: the user denied the call to '${tool}' of server '${server}'`,
        };
      case 'declined':
        return {
          run: false,
          approval: 'declined',
          refusal: `declined: the user dismissed the approval request for '${tool}' of server '${server}'`,
        };
    }
  }

  /** For the result: what ran without approval because the client cannot be asked. */
  notices(): string[] {
    if (this.#unapproved.size === 0) return [];
    const calls = [...this.#unapproved].map(([name, count]) => `${name} ×${count}`).join(', ');
    return [
      `approvals: ran without approval (this MCP client cannot show approval requests: it did not declare elicitation): ${calls}. Set MCP_BRIDGE_APPROVALS=strict to refuse such calls instead.`,
    ];
  }
}
