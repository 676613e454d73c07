import { BridgeError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { removeOwnSandboxes } from '../container/leftovers.js';
import { DEFAULT_SESSION } from '../util/default-session.js';
import type { SandboxSession } from './sandbox-session.js';

/** Notices of forgotten sessions kept for their next call, at most this many. */
const MAX_REMEMBERED_NOTICES = 64;

/** A call for a session that would start one sandbox more than MCP_BRIDGE_MAX_SESSIONS. */
export class SessionLimitError extends BridgeError {
  constructor(message: string) {
    super('session_limit', message);
  }
}

/** A call's hold on its session: the session stays active (counted) until released. */
export interface SessionLease {
  readonly session: SandboxSession;
  release(): void;
}

export interface SessionPoolOptions {
  maxSessions: number;
  idleTimeoutSeconds: number;
  logger: Logger;
  /** Makes the named session (its own sandbox, state, queue and idle timer). */
  create(name: string): SandboxSession;
}

/**
 * The named sessions of one bridge (run_python's `session`), each made on first use.
 * Calls in different sessions run in parallel; each session queues its own calls.
 *
 * The cap (MCP_BRIDGE_MAX_SESSIONS) counts *active* sessions: with a sandbox alive or
 * starting, or a call held. A session whose sandbox idled out or was reset holds no
 * container, so it frees its slot; it is forgotten when another session needs the room
 * (what it still had to tell the agent is kept for its next call). `default` is never
 * refused: clients that know nothing of sessions must always get an answer.
 */
export class SessionPool {
  readonly #options: SessionPoolOptions;
  readonly #sessions = new Map<string, SandboxSession>();
  readonly #holds = new Map<string, number>();
  readonly #notices = new Map<string, string>();
  readonly #closing = new Set<Promise<void>>();
  #closed = false;

  constructor(options: SessionPoolOptions) {
    this.#options = options;
  }

  /** The session named, made if needed, without a cap check (pre-warm, executor: `default`). */
  get(name: string = DEFAULT_SESSION): SandboxSession {
    let session = this.#sessions.get(name);
    if (!session) {
      session = this.#options.create(name);
      const notice = this.#notices.get(name);
      if (notice !== undefined) {
        this.#notices.delete(name);
        session.addNotice(notice);
      }
      this.#sessions.set(name, session);
    }
    return session;
  }

  /**
   * Holds the named session for one call. Throws SessionLimitError when the session is
   * not active and MCP_BRIDGE_MAX_SESSIONS sessions are (its call would start one sandbox
   * too many); the error lists them and says how to free one.
   */
  acquire(name: string): SessionLease {
    if (this.#closed) throw new BridgeError('shutting_down', 'The bridge is shutting down.');
    if (name !== DEFAULT_SESSION && !this.#isActive(name)) {
      const live = this.live();
      if (live.length >= this.#options.maxSessions) throw this.#limitError(name, live);
    }
    this.#forgetInactive(name);
    const session = this.get(name);
    this.#holds.set(name, (this.#holds.get(name) ?? 0) + 1);
    let released = false;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#holds.get(name) ?? 1) - 1;
        if (left > 0) this.#holds.set(name, left);
        else this.#holds.delete(name);
      },
    };
  }

  /** Names of the active sessions (counted against the cap), sorted. */
  live(): string[] {
    return [...this.#sessions.keys()].filter((name) => this.#isActive(name)).sort();
  }

  /** `runtime.reset()` from a call in `name`: only that session's sandbox is replaced. */
  requestReset(name: string): void {
    this.#sessions.get(name)?.requestReset();
  }

  /** Removes every session's sandbox, then every container of this bridge still left. */
  async close(): Promise<void> {
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    await Promise.all(sessions.map((session) => session.close({ stopEngine: false })));
    await Promise.all(this.#closing);
    const engines = await Promise.all(sessions.map((session) => session.connectedEngine()));
    const engine = engines.find((found) => found !== undefined);
    if (!engine) return;
    await removeOwnSandboxes(engine.docker, this.#options.logger);
    await engine.ownedService?.stop();
  }

  #isActive(name: string): boolean {
    return (this.#holds.get(name) ?? 0) > 0 || this.#sessions.get(name)?.active === true;
  }

  /** Drops inactive sessions (not `default`, not `keep`), keeping their pending notices. */
  #forgetInactive(keep: string): void {
    for (const [name, session] of this.#sessions) {
      if (name === keep || name === DEFAULT_SESSION || this.#isActive(name)) continue;
      this.#sessions.delete(name);
      const notice = session.takePendingNotice();
      if (notice !== undefined) this.#remember(name, notice);
      const closing = session
        .close({ stopEngine: false, removeStrays: false })
        .catch((error: unknown) => {
          this.#options.logger.debug({ err: errorMessage(error), session: name }, 'close failed');
        });
      this.#closing.add(closing);
      void closing.finally(() => this.#closing.delete(closing));
    }
  }

  #remember(name: string, notice: string): void {
    this.#notices.delete(name);
    this.#notices.set(name, notice);
    for (const oldest of this.#notices.keys()) {
      if (this.#notices.size <= MAX_REMEMBERED_NOTICES) break;
      this.#notices.delete(oldest);
    }
  }

  #limitError(name: string, live: string[]): SessionLimitError {
    const { maxSessions, idleTimeoutSeconds } = this.#options;
    const idle =
      idleTimeoutSeconds > 0
        ? `or wait until one has had no call for ${idleTimeoutSeconds} s (MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT)`
        : '(idle sessions are not stopped: MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT is 0)';
    return new SessionLimitError(
      `Session '${name}' was not started: ${live.length} sessions are live, the limit is ${maxSessions} (MCP_BRIDGE_MAX_SESSIONS). ` +
        `Live sessions: ${live.join(', ')}. Use one of them, or free one: run \`from mcp import runtime; runtime.reset()\` in it (its state ends after that call), ${idle}.`,
    );
  }
}
