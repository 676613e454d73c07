import type { ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../config/servers-config.js';
import type { Logger } from '../logger.js';
import { serverEnvironment } from './safe-env.js';
import { LogBudget } from './upstream-log-budget.js';
import { callTimingEnabled } from '../util/call-timing.js';
import { processIsAlive } from '../util/process-alive.js';
import { markRpcStage } from '../util/rpc-timing.js';
import { StderrTail } from './upstream-stderr.js';

/** After stdin ends, how long a server may take to exit before SIGTERM, then SIGKILL. */
const STDIN_GRACE_MS = 1_000;
const TERM_GRACE_MS = 1_000;
const KILL_WAIT_MS = 500;
const MAX_TOOL_PAGES = 1_000;

/** A server process's end: its exit code, or the signal that killed it. */
export interface UpstreamExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ClientInfo {
  name: string;
  version: string;
}

/**
 * One spawned server process and the SDK client talking to it. It never restarts:
 * once the process is gone, the owner builds a new connection.
 */
export class UpstreamConnection {
  readonly client: Client;
  readonly stderr: StderrTail;
  /** Called once when the process is gone; `expected` is false for a crash. */
  onExit: ((expected: boolean) => void) | undefined;
  readonly #transport: PidKeepingTransport;
  readonly #logger: Logger;
  readonly #noise = new LogBudget(16 * 1024, 60_000);
  readonly #exit: Promise<void>;
  #markExited: () => void = () => {};
  #pid: number | undefined;
  #exited = false;
  #initialized = false;
  #closing: Promise<void> | undefined;
  #tools: Promise<Tool[]> | undefined;
  #lastTransportError: string | undefined;

  constructor(definition: ServerDefinition, logger: Logger, clientInfo: ClientInfo) {
    this.#logger = logger;
    this.#transport = new PidKeepingTransport({
      command: definition.command,
      args: definition.args,
      env: serverEnvironment(definition.env),
      cwd: definition.cwd,
      stderr: 'pipe',
    });
    // The transport hands out its stderr stream before start, so no early line is lost.
    const stderr = this.#transport.stderr;
    if (!(stderr instanceof Readable)) throw new Error('the stdio transport gave no stderr stream');
    this.stderr = new StderrTail(stderr, logger);
    this.#exit = new Promise((resolve) => (this.#markExited = resolve));
    // Fires when the child process has closed (or never started); the client's own
    // handler, chained after this one, then fails every request in flight.
    this.#transport.onclose = () => this.#onClosed();
    this.client = new Client(clientInfo, { capabilities: {} });
    this.client.onerror = (error) => this.#onTransportError(error);
    this.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#logger.debug('upstream tool list changed; it will be listed again on next use');
      this.#tools = undefined;
    });
  }

  /** Spawns the process and runs `initialize`, failing after `timeoutMs`. */
  async start(timeoutMs: number): Promise<void> {
    if (this.#closing) throw new Error('the connection was closed before it started');
    try {
      await this.client.connect(this.#transport, { timeout: timeoutMs });
      if (callTimingEnabled()) timeUpstreamLeg(this.#transport);
    } finally {
      this.#pid = this.#transport.spawnedPid;
      if (this.#pid === undefined) this.#onClosed();
    }
    this.#initialized = true;
  }

  /** Whether `initialize` succeeded. */
  get initialized(): boolean {
    return this.#initialized;
  }

  get pid(): number | undefined {
    return this.#exited ? undefined : this.#pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** How the process ended, when it has and the transport told us. */
  get exitStatus(): UpstreamExit | undefined {
    return this.#transport.exitStatus;
  }

  /** Whether the process was ended by `close()` rather than on its own. */
  get closedByUs(): boolean {
    return this.#closing !== undefined;
  }

  /** The last error the transport itself reported (not counting stray stdout lines). */
  get lastTransportError(): string | undefined {
    return this.#lastTransportError;
  }

  /** Every tool, following `nextCursor`; cached until the server says the list changed. */
  tools(timeoutMs: number): Promise<Tool[]> {
    if (!this.#tools) {
      const listing = this.#listAll(timeoutMs);
      this.#tools = listing;
      listing.catch(() => {
        if (this.#tools === listing) this.#tools = undefined;
      });
    }
    return this.#tools;
  }

  /**
   * Ends the process: stdin is closed, then SIGTERM, then SIGKILL, and the promise
   * resolves once the process is seen gone (or after the last wait).
   */
  close(): Promise<void> {
    this.#closing ??= this.#terminate();
    return this.#closing;
  }

  async #listAll(timeoutMs: number): Promise<Tool[]> {
    const all: Tool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page += 1) {
      const result = await this.client.listTools(cursor === undefined ? undefined : { cursor }, {
        timeout: timeoutMs,
      });
      all.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined || seen.has(cursor)) break;
      seen.add(cursor);
    }
    return all;
  }

  async #terminate(): Promise<void> {
    // Read before closing: the SDK transport forgets its child as soon as it closes.
    const pid = this.#pid ?? this.#transport.spawnedPid ?? this.#transport.pid ?? undefined;
    this.client.close().catch((error: unknown) => {
      this.#logger.debug({ err: error }, 'upstream transport close failed');
    });
    if (pid === undefined || (await this.#exitedWithin(STDIN_GRACE_MS))) return;
    this.#signal(pid, 'SIGTERM');
    if (await this.#exitedWithin(TERM_GRACE_MS)) return;
    this.#logger.warn({ pid }, 'upstream server ignored SIGTERM; sending SIGKILL');
    this.#signal(pid, 'SIGKILL');
    await this.#exitedWithin(KILL_WAIT_MS);
  }

  #signal(pid: number, signal: NodeJS.Signals): void {
    // Our close handler has not run, so the child has not been seen gone: its pid has
    // not been handed to another process (short of a reuse race within these seconds).
    if (this.#exited || !processIsAlive(pid)) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Gone in between.
    }
  }

  async #exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    });
    await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);
    return this.#exited;
  }

  #onClosed(): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#tools = undefined;
    this.#markExited();
    this.onExit?.(this.#closing !== undefined);
  }

  #onTransportError(error: Error): void {
    const kind = classify(error);
    const summary =
      error.name === 'ZodError'
        ? 'valid JSON, but not a JSON-RPC message'
        : (error.message.split('\n', 1)[0] ?? '').slice(0, 200);
    if (kind === 'fault') this.#lastTransportError = summary;
    if (!this.#noise.take(summary.length)) return;
    switch (kind) {
      case 'stray-output':
        this.#logger.debug({ reason: summary }, 'ignored a stdout line that is not JSON-RPC');
        break;
      case 'late-reply':
        this.#logger.debug({ reason: summary }, 'dropped a reply to a request already given up');
        break;
      case 'after-exit':
        this.#logger.debug({ reason: summary }, 'could not write to a server that is exiting');
        break;
      case 'fault':
        this.#logger.warn({ err: error }, 'upstream transport error');
        break;
    }
  }
}

/**
 * Remembers the child's pid: the SDK forgets it as soon as it starts closing (which
 * `Client.connect` does itself when `initialize` fails), and ending the process needs it.
 */
class PidKeepingTransport extends StdioClientTransport {
  spawnedPid: number | undefined;
  /** How the process ended, once it has (`exit` comes before the transport's `close`). */
  exitStatus: UpstreamExit | undefined;

  override async start(): Promise<void> {
    await super.start();
    this.spawnedPid = this.pid ?? undefined;
    // The SDK keeps the child private and reports no exit status; without it an error
    // could not tell a crash from a kill from outside. If the field goes, so does the detail.
    const child = (this as unknown as { _process?: ChildProcess })._process;
    child?.once('exit', (code, signal) => {
      this.exitStatus = { code, signal };
    });
  }
}

/**
 * The SDK's stdio transport reports each stdout line that does not parse as JSON-RPC to
 * `onerror` and carries on (shared/stdio.js `ReadBuffer`): a chatty server's banners and
 * blank lines cost a debug line, never the session.
 */
function classify(error: Error): 'stray-output' | 'late-reply' | 'after-exit' | 'fault' {
  if (error.name === 'SyntaxError' || error.name === 'ZodError') return 'stray-output';
  // Writing to a process that has just died: its exit is what gets reported.
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED') {
    return 'after-exit';
  }
  if (error.message.startsWith('Unknown message type')) return 'stray-output';
  if (
    error.message.startsWith('Received a response for an unknown message ID') ||
    error.message.startsWith('Received a progress notification for an unknown token')
  ) {
    return 'late-reply';
  }
  return 'fault';
}

/** MCP_BRIDGE_TIMING: when a request reached the server's stdin, and its answer came back. */
function timeUpstreamLeg(transport: StdioClientTransport): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    markRpcStage('response in');
    deliver?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message) => {
    await send(message);
    markRpcStage('request written');
  };
}
