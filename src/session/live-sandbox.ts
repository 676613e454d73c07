import type Dockerode from 'dockerode';
import type {
  DoneFrame,
  ExecuteServer,
  ExitedFrame,
  RpcRequestFrame,
  HostFrame,
  ReadyFrame,
  SandboxFacts,
  SandboxFrame,
} from '../channel/frames.js';
import type { Logger } from '../logger.js';
import type { SandboxSources } from './boot-modules.js';
import { describeSandboxDeath } from './death-reason.js';
import { PendingExecution } from './pending-execution.js';
import { RpcGate, type RpcHandler } from './rpc-gate.js';
import { bootSandbox } from './sandbox-boot.js';
import type { ChannelKind, SandboxLink } from './sandbox-link.js';

/** What a sandbox needs from the hardening layer, without knowing it. */
export interface SandboxBlueprint {
  /** `laneDir`: the socket lane's host folder, to mount (src/channel/socket-lane.ts). */
  createOptions(command: string[], laneDir?: string): Dockerode.ContainerCreateOptions;
  /** Whether to offer the sandbox the socket lane (it falls back to stdin/stdout). */
  socketLane: boolean;
  /** One message per hardening setting the sandbox reports as not applied. */
  verify(facts: SandboxFacts): string[];
  memoryLimitBytes: number;
  /** The sandbox runs under gVisor, whose out-of-memory death looks different. */
  gvisor?: boolean;
}

export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /** Servers loaded for this call, and the handler for the cell's requests to them. */
  servers?: ExecuteServer[];
  rpc?: RpcHandler;
}

export interface ExecutionResult {
  outcome: 'completed' | 'exception' | 'timeout' | 'died';
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the sandbox, and with it the session state, was lost during this call. */
  lostReason: string | undefined;
  outOfMemory: boolean;
}

/** The container's own stderr is diagnostics only; a hostile sandbox must not flood the log. */
const STDERR_LOG_BUDGET_CHARS = 64 * 1024;

/** Told when the sandbox dies by itself; `duringCall` when a cell was running. */
export type DeathListener = (reason: string, duringCall: boolean) => void;

/**
 * One booted sandbox container: one execution at a time, timeouts and death. The session
 * above decides when to start a new one.
 */
export class LiveSandbox {
  readonly ready: ReadyFrame;
  readonly #link: SandboxLink;
  readonly #nonce: string;
  readonly #logger: Logger;
  readonly #memoryLimitBytes: number;
  readonly #gvisor: boolean;
  readonly #interruptGraceMs: number;
  readonly #onDeath: DeathListener;
  #nextId = 1;
  #stderrLogBudget = STDERR_LOG_BUDGET_CHARS;
  #current: PendingExecution | undefined;
  #exited: ExitedFrame | undefined;
  #dead = false;

  private constructor(
    booted: { link: SandboxLink; ready: ReadyFrame; nonce: string },
    options: {
      logger: Logger;
      memoryLimitBytes: number;
      gvisor: boolean;
      interruptGraceMs: number;
      onDeath: DeathListener;
    },
  ) {
    this.#link = booted.link;
    this.ready = booted.ready;
    this.#nonce = booted.nonce;
    this.#logger = options.logger;
    this.#memoryLimitBytes = options.memoryLimitBytes;
    this.#gvisor = options.gvisor;
    this.#interruptGraceMs = options.interruptGraceMs;
    this.#onDeath = options.onDeath;
  }

  /** Starts a container, boots the runner, and checks its hardening before any user code. */
  static async start(options: {
    docker: Dockerode;
    blueprint: SandboxBlueprint;
    sources: SandboxSources;
    logger: Logger;
    interruptGraceMs: number;
    onDeath: DeathListener;
  }): Promise<LiveSandbox> {
    const booted = await bootSandbox(options);
    const sandbox = new LiveSandbox(booted, {
      ...options,
      memoryLimitBytes: options.blueprint.memoryLimitBytes,
      gvisor: options.blueprint.gvisor ?? false,
    });
    booted.route({
      onFrame: (frame) => sandbox.#handleFrame(frame),
      onStderr: (text) => sandbox.#logStderr(text),
      onEnd: (reason) => sandbox.#handleEnd(reason),
    });
    options.logger.debug(
      {
        python: booted.ready.python,
        container: booted.link.id.slice(0, 12),
        channel: booted.link.channel,
      },
      'sandbox ready',
    );
    return sandbox;
  }

  get alive(): boolean {
    return !this.#dead;
  }

  get containerId(): string {
    return this.#link.id;
  }

  /** Whether frames take the socket lane or the container's stdin/stdout. */
  get channel(): ChannelKind {
    return this.#link.channel;
  }

  /** Runs one cell. Never rejects: every way a call can end is an ExecutionResult. */
  execute(request: ExecutionRequest): Promise<ExecutionResult> {
    if (this.#current) throw new Error('LiveSandbox.execute called while a cell is running');
    if (this.#dead) {
      return Promise.resolve({
        outcome: 'died',
        exitCode: undefined,
        stdout: '',
        stderr: '',
        durationMs: 0,
        lostReason: 'The sandbox had stopped before the call started.',
        outOfMemory: false,
      });
    }
    const id = this.#nextId++;
    return new Promise<ExecutionResult>((resolve) => {
      const gate = request.rpc ? new RpcGate(request.rpc) : undefined;
      const execution = new PendingExecution(id, request.maxOutputChars, gate, (result) => {
        if (this.#current === execution) this.#current = undefined;
        resolve(result);
      });
      this.#current = execution;
      execution.after(request.timeoutMs, () => this.#interrupt(execution));
      const { code, maxOutputChars, servers } = request;
      this.#send({
        type: 'execute',
        id,
        code,
        maxOutputChars,
        ...(servers?.length ? { servers } : {}),
      });
    });
  }

  /** Kills and removes the container. A deliberate stop is not a death to report. */
  async destroy(): Promise<void> {
    this.#dead = true;
    await this.#link.destroy();
  }

  #send(frame: HostFrame): void {
    this.#link.send(frame);
  }

  /** Past the timeout: interrupt, and kill the container if the code ignores it. */
  #interrupt(execution: PendingExecution): void {
    execution.timedOut = true;
    this.#send({ type: 'interrupt', id: execution.id });
    execution.after(this.#interruptGraceMs, () => {
      const grace = this.#interruptGraceMs / 1000;
      this.#dead = true;
      this.#onDeath('killed after ignoring an interrupt', true);
      execution.finish({
        outcome: 'timeout',
        exitCode: undefined,
        durationMs: execution.elapsedMs(),
        lostReason: `The code ignored the interrupt for ${grace}s (e.g. a long C-level loop), so the sandbox was killed and restarted: the session state (variables, imports) was lost.`,
        outOfMemory: false,
      });
      void this.#link.destroy();
    });
  }

  #handleFrame(frame: SandboxFrame): void {
    const current = this.#current;
    switch (frame.type) {
      case 'stdout':
      case 'stderr':
        if (current?.id === frame.id) current[frame.type].append(frame.data);
        return;
      case 'done':
        if (current?.id === frame.id) finishFromDone(current, frame);
        return;
      case 'exited':
        if (frame.nonce === this.#nonce) this.#exited = frame;
        return;
      case 'rpc_request':
        this.#answerRpc(current, frame);
        return;
      case 'log':
        this.#logger[frame.level]({ sandbox: true }, frame.message.slice(0, 2000));
        return;
      case 'ready':
        return;
    }
  }

  #logStderr(text: string): void {
    if (this.#stderrLogBudget <= 0) return;
    this.#stderrLogBudget -= text.length;
    this.#logger.warn({ stderr: text.slice(0, 2000) }, 'sandbox wrote to its stderr');
    if (this.#stderrLogBudget <= 0) this.#logger.warn('sandbox stderr: further output not logged');
  }

  /**
   * Security: a request is answered only for the cell that is running and asked for it;
   * the gate (built from this call's allow-list) decides the rest.
   */
  #answerRpc(current: PendingExecution | undefined, frame: RpcRequestFrame): void {
    if (!current || current.id !== frame.execId || !current.rpc) {
      const error =
        current?.id === frame.execId
          ? "No MCP servers are loaded in this call: list them in run_python's `servers` argument."
          : 'The call that sent this request has ended.';
      this.#send({ type: 'rpc_response', id: frame.id, success: false, error });
      return;
    }
    void current.rpc.answer(frame.payload).then((answer) => {
      if (answer && !this.#dead) this.#send({ type: 'rpc_response', id: frame.id, ...answer });
    });
  }

  #handleEnd(reason: string): void {
    const execution = this.#current;
    if (this.#dead && !execution) return; // our own destroy(): nothing to report
    if (!this.#dead) {
      this.#dead = true;
      this.#onDeath(reason, execution !== undefined);
    }
    void this.#link.exitStatus().then((exit) => {
      const death = describeSandboxDeath({
        exited: this.#exited,
        exit,
        memoryLimitBytes: this.#memoryLimitBytes,
        gvisor: this.#gvisor,
      });
      this.#logger.warn({ reason, exit, exited: this.#exited }, 'sandbox ended');
      execution?.finish({
        outcome: 'died',
        exitCode: exit?.exitCode,
        durationMs: execution.elapsedMs(),
        lostReason: death.message,
        outOfMemory: death.outOfMemory,
      });
      void this.#link.destroy();
    });
  }
}

function finishFromDone(execution: PendingExecution, frame: DoneFrame): void {
  const ending = { durationMs: frame.durationMs, lostReason: undefined, outOfMemory: false };
  const outcome =
    frame.outcome === 'interrupted' && execution.timedOut
      ? 'timeout'
      : frame.outcome === 'completed'
        ? 'completed'
        : 'exception';
  execution.finish({ ...ending, outcome, exitCode: frame.exitCode }, frame.dropped);
}
