import { stat } from 'node:fs/promises';
import {
  CallToolResultSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../config/servers-config.js';
import type { Logger } from '../logger.js';
import { packageVersion } from '../util/package-root.js';
import { RestartBackoff } from './upstream-backoff.js';
import { UpstreamConnection, type ClientInfo } from './upstream-connection.js';
import { UpstreamError } from './upstream-errors.js';
import {
  closedFailure,
  requestFailure,
  startFailure,
  type FailedConnection,
} from './upstream-failures.js';
import { commandLine } from './upstream-messages.js';

export interface UpstreamClientOptions {
  /** How long the server may take to answer `initialize` (ms). */
  initTimeoutMs: number;
  /** Default limit for one tool call or tool listing (ms). */
  callTimeoutMs: number;
  /** Wait before restart after the 1st, 2nd, … consecutive failure; the last entry repeats. */
  restartBackoffMs: readonly number[];
  /** How the bridge introduces itself in `initialize`. */
  clientInfo: ClientInfo;
}

export interface CallToolOptions {
  /** Aborting it cancels the call (the server gets `notifications/cancelled`). */
  signal?: AbortSignal;
  /** Overrides `callTimeoutMs` for this call. */
  timeoutMs?: number;
}

export const DEFAULT_INIT_TIMEOUT_MS = 30_000;
export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
export const DEFAULT_RESTART_BACKOFF_MS: readonly number[] = [0, 1_000, 5_000, 30_000];

/**
 * One configured MCP server as a persistent client: spawned on first use and kept warm,
 * restarted on the next use after it dies (with backoff after repeated failures).
 * Every failure is an `UpstreamError` whose message says what happened and what next.
 */
export class UpstreamClient {
  readonly definition: ServerDefinition;
  readonly #logger: Logger;
  readonly #options: UpstreamClientOptions;
  /** The connection that serves requests, while starting or running. */
  #current: { connection: UpstreamConnection; ready: Promise<UpstreamConnection> } | undefined;
  /** Every connection whose process may still run (including ones being stopped). */
  readonly #live = new Set<UpstreamConnection>();
  #latest: UpstreamConnection | undefined;
  readonly #backoff: RestartBackoff;
  #closed = false;

  constructor(
    definition: ServerDefinition,
    logger: Logger,
    options: Partial<UpstreamClientOptions> = {},
  ) {
    this.definition = definition;
    this.#logger = logger.child({ server: definition.name });
    this.#options = {
      initTimeoutMs: options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      restartBackoffMs: options.restartBackoffMs ?? DEFAULT_RESTART_BACKOFF_MS,
      clientInfo: options.clientInfo ?? defaultClientInfo(),
    };
    this.#backoff = new RestartBackoff(this.#options.restartBackoffMs);
  }

  get name(): string {
    return this.definition.name;
  }

  /** The pid of the running server process, if it is running. */
  get pid(): number | undefined {
    return this.#current?.connection.pid;
  }

  /** The last lines the most recent server process wrote to stderr. */
  lastStderrLines(): string[] {
    return this.#latest?.stderr.lastLines() ?? [];
  }

  /** Every tool of the server (all pages), cached until it reports a change or restarts. */
  async tools(): Promise<Tool[]> {
    const connection = await this.#connection();
    try {
      const tools = await connection.tools(this.#options.callTimeoutMs);
      this.#backoff.reset();
      return [...tools];
    } catch (error: unknown) {
      throw await this.#requestError(error, connection, {
        what: 'tools/list',
        cancelled: false,
        timeoutMs: this.#options.callTimeoutMs,
      });
    }
  }

  /** Calls one tool; a tool's own failure is a result with `isError`, not an exception. */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: CallToolOptions = {},
  ): Promise<CallToolResult> {
    const connection = await this.#connection();
    const timeoutMs = options.timeoutMs ?? this.#options.callTimeoutMs;
    // A per-call controller, so that a long-lived caller signal does not collect one
    // listener per call inside the SDK.
    const controller = new AbortController();
    const forward = (): void => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) forward();
    options.signal?.addEventListener('abort', forward, { once: true });
    try {
      const result = await connection.client.callTool(
        { name, arguments: args },
        CallToolResultSchema,
        { signal: controller.signal, timeout: timeoutMs },
      );
      this.#backoff.reset();
      // The SDK's return type also covers the legacy `toolResult` shape, which only
      // its CompatibilityCallToolResultSchema produces.
      return result as CallToolResult;
    } catch (error: unknown) {
      throw await this.#requestError(error, connection, {
        what: `'${name}'`,
        cancelled: controller.signal.aborted,
        timeoutMs,
      });
    } finally {
      options.signal?.removeEventListener('abort', forward);
    }
  }

  /** Stops the server (stdin end → SIGTERM → SIGKILL); the client cannot be used after. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#current = undefined;
    await Promise.all([...this.#live].map((connection) => connection.close()));
  }

  #connection(): Promise<UpstreamConnection> {
    if (this.#closed) return Promise.reject(closedFailure(this.name));
    if (this.#current) return this.#current.ready;
    const refusal = this.#backoff.refusal();
    if (refusal) {
      return Promise.reject(
        new UpstreamError('upstream_backoff', this.name, `MCP server '${this.name}' ${refusal}`),
      );
    }
    const connection = new UpstreamConnection(
      this.definition,
      this.#logger,
      this.#options.clientInfo,
    );
    this.#live.add(connection);
    this.#latest = connection;
    connection.onExit = (expected) => this.#onExit(connection, expected);
    const ready = this.#start(connection);
    this.#current = { connection, ready };
    return ready;
  }

  async #start(connection: UpstreamConnection): Promise<UpstreamConnection> {
    const { cwd } = this.definition;
    if (cwd !== undefined && !(await isDirectory(cwd))) {
      this.#forget(connection);
      this.#live.delete(connection);
      throw new UpstreamError(
        'upstream_start_failed',
        this.name,
        `MCP server '${this.name}' could not be started: its working directory ${cwd} ` +
          `does not exist (cwd in ${this.definition.source}).`,
      );
    }
    try {
      await connection.start(this.#options.initTimeoutMs);
    } catch (error: unknown) {
      this.#forget(connection);
      if (this.#closed) throw closedFailure(this.name, error);
      await settleStreams();
      const failure = startFailure(
        this.definition,
        failureView(connection),
        error,
        this.#options.initTimeoutMs,
      );
      this.#backoff.recordFailure(failure.reason);
      void connection.close();
      throw failure.error;
    }
    this.#logger.info(
      { pid: connection.pid, command: commandLine(this.definition) },
      'MCP server started',
    );
    return connection;
  }

  #onExit(connection: UpstreamConnection, expected: boolean): void {
    this.#live.delete(connection);
    const wasCurrent = this.#forget(connection);
    // Failures during startup are recorded (and explained) by #start.
    if (expected || this.#closed || !wasCurrent || !connection.initialized) return;
    this.#backoff.recordFailure('exited unexpectedly');
    this.#logger.warn(
      { stderr: connection.stderr.lastLines().slice(-5), exit: connection.exitStatus },
      'MCP server exited unexpectedly; it will be restarted on next use',
    );
  }

  /** Drops `connection` as the current one; true if it was. */
  #forget(connection: UpstreamConnection): boolean {
    if (this.#current?.connection !== connection) return false;
    this.#current = undefined;
    return true;
  }

  async #requestError(
    error: unknown,
    connection: UpstreamConnection,
    context: { what: string; cancelled: boolean; timeoutMs: number },
  ): Promise<UpstreamError> {
    if (this.#closed || connection.closedByUs) return closedFailure(this.name, error, context.what);
    if (connection.exited) await settleStreams();
    const restart =
      this.#backoff.remainingMs() > 0
        ? `it can be restarted ${this.#backoff.retryWhen()}`
        : 'it will be restarted on next use';
    return requestFailure(this.name, failureView(connection), error, { ...context, restart });
  }
}

function failureView(connection: UpstreamConnection): FailedConnection {
  return {
    exited: connection.exited,
    killedBy: connection.exitStatus?.signal,
    lastTransportError: connection.lastTransportError,
    stderrLines: connection.stderr.lastLines(),
  };
}

function defaultClientInfo(): ClientInfo {
  let version = '0.0.0';
  try {
    version = packageVersion();
  } catch {
    // Only the version string is lost.
  }
  return { name: 'mcp-server-code-execution-mode', version };
}

async function isDirectory(folder: string): Promise<boolean> {
  try {
    return (await stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

/** Lets stderr chunks already read from a dead process reach the tail before it is quoted. */
function settleStreams(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
