import type Dockerode from 'dockerode';
import { MAX_QUEUED_BYTES } from '../channel/bounded-writer.js';
import type {
  ExitedFrame,
  RpcRequestFrame,
  HostFrame,
  ReadyFrame,
  SandboxFrame,
} from '../channel/frames.js';
import type { Logger } from '../logger.js';
import { markStage, noteRunnerTiming } from '../util/call-timing.js';
import { beginRpcTiming, finishRpcTiming, flushRpcTiming } from '../util/rpc-timing.js';
import type { SandboxSources } from './boot-modules.js';
import {
  cancelKillMessage,
  cancelledBeforeStart,
  cancelledEnding,
  whenAborted,
  type StopReason,
} from './cancellation.js';
import { Budget, CHANNEL_BUDGETS } from './channel-budget.js';
import { describeSandboxDeath, stoppedReadingMessage, timeoutKillMessage } from './death-reason.js';
import type { ExecutionRequest, ExecutionResult } from './execution.js';
import { PendingExecution } from './pending-execution.js';
import { CellClock } from './cell-clock.js';
import { RpcGate, refuseWithoutServers } from './rpc-gate.js';
import { bootSandbox } from './sandbox-boot.js';
import type { SandboxBlueprint } from './sandbox-blueprint.js';
import type { ChannelKind, SandboxLink } from './sandbox-link.js';
import type { SandboxLog } from './sandbox-log.js';

// What start() and execute() take and give, defined apart so the modules below need not
// import this one.
export type { ExecutionRequest, ExecutionResult } from './execution.js';
export type { SandboxBlueprint } from './sandbox-blueprint.js';

/** Told when the sandbox dies by itself; `duringCall` when a cell was running. */
export type DeathListener = (reason: string, duringCall: boolean) => void;

/**
 * One booted sandbox container: one execution at a time, timeouts and death. The session
 * above decides when to start a new one.
 */
export class LiveSandbox {
  readonly ready: ReadyFrame;
  /** Milliseconds of each start-up step (sandbox-boot.ts), for the log. */
  readonly startSteps: Record<string, number>;
  readonly #link: SandboxLink;
  readonly #nonce: string;
  readonly #log: SandboxLog;
  readonly #logger: Logger;
  readonly #memoryLimitBytes: number;
  readonly #gvisor: boolean;
  readonly #interruptGraceMs: number;
  readonly #onDeath: DeathListener;
  #nextId = 1;
  readonly #refusedForEndedCells = new Budget(CHANNEL_BUDGETS.refusedForEndedCells);
  #current: PendingExecution | undefined;
  #exited: ExitedFrame | undefined;
  #dead = false;

  private constructor(
    booted: {
      link: SandboxLink;
      ready: ReadyFrame;
      nonce: string;
      log: SandboxLog;
      steps: Record<string, number>;
    },
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
    this.startSteps = booted.steps;
    this.#nonce = booted.nonce;
    this.#log = booted.log;
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
      onEnd: (reason) => sandbox.#handleEnd(reason),
    });
    booted.link.onOverflow((queuedBytes) => sandbox.#stoppedReading(queuedBytes));
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
    if (request.signal?.aborted) return Promise.resolve(cancelledBeforeStart());
    const id = this.#nextId++;
    return new Promise<ExecutionResult>((resolve) => {
      // The timeout runs from here; the gate's handler may hold it while a person is
      // asked to approve a call (src/proxy/approvals.ts), never the sandbox itself.
      const clock = new CellClock(request.timeoutMs, () => this.#interrupt(execution, 'timeout'));
      const gate = new RpcGate(request.rpc ?? refuseWithoutServers, clock);
      const settle = (result: ExecutionResult) => {
        if (this.#current === execution) this.#current = undefined;
        resolve(result);
      };
      const execution = new PendingExecution(
        id,
        request.maxOutputChars,
        gate,
        settle,
        request.observer,
        request.display,
      );
      this.#current = execution;
      execution.onFinish(() => clock.stop());
      execution.onFinish(
        whenAborted(request.signal, () => this.#interrupt(execution, 'cancelled')),
      );
      request.observer?.started?.();
      const { code, maxOutputChars, servers, display } = request;
      this.#send({
        type: 'execute',
        id,
        doneToken: execution.doneToken,
        code,
        maxOutputChars,
        ...(servers?.length ? { servers } : {}),
        ...(display ? { display } : {}),
      });
      markStage('execute written');
    });
  }

  /** Kills and removes the container. A deliberate stop is not a death to report. */
  async destroy(): Promise<void> {
    this.#dead = true;
    const execution = this.#current;
    // A cancelled cell (its client gone, the bridge closing) ends as cancelled, not as a death.
    if (execution?.stopReason === 'cancelled') {
      execution.finish({ ...cancelledEnding(execution.elapsedMs()) });
    }
    await this.#link.destroy();
  }

  #send(frame: HostFrame): void {
    this.#link.send(frame);
  }

  /**
   * Past the timeout, or cancelled by the client: interrupt, and kill the container if
   * the code ignores it. Only the first reason counts.
   */
  #interrupt(execution: PendingExecution, reason: StopReason): void {
    if (execution.stopReason || execution.finished) return;
    execution.stopReason = reason;
    this.#send({ type: 'interrupt', id: execution.id });
    execution.after(this.#interruptGraceMs, () => {
      const grace = this.#interruptGraceMs / 1000;
      // Frames still waiting for the sandbox: it never read the interrupt at all.
      const unread = this.#link.backedUp;
      this.#dead = true;
      this.#onDeath(
        unread ? 'killed: it stopped reading its channel' : 'killed after ignoring an interrupt',
        true,
      );
      execution.finish({
        outcome: reason,
        exitCode: undefined,
        durationMs: execution.elapsedMs(),
        lostReason:
          reason === 'cancelled'
            ? cancelKillMessage(grace, unread)
            : timeoutKillMessage(grace, unread),
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
        if (current?.id === frame.id) {
          current[frame.type].append(frame.data);
          current.observer?.output?.(frame.type, frame.data);
        }
        return;
      case 'progress':
        if (current?.id === frame.id) current.observer?.progress?.(frame);
        return;
      case 'done':
        markStage('done received');
        noteRunnerTiming(frame.timing);
        flushRpcTiming();
        if (current?.id === frame.id && !current.finishFromDone(frame))
          this.#log.invalid(`a 'done' frame for cell ${frame.id} without its token`, '');
        return;
      case 'exited':
        if (frame.nonce === this.#nonce) this.#exited = frame;
        return;
      case 'rpc_request':
        this.#answerRpc(current, frame);
        return;
      case 'image':
        // Bounded per cell before anything is decoded; other cells' frames are dropped.
        if (current?.id === frame.id) current.display.addImage(frame);
        return;
      case 'artifact':
        if (current?.id === frame.id) current.display.addArtifact(frame);
        return;
      case 'notice':
        if (current?.id === frame.id) current.display.addNotice(frame.message);
        return;
      case 'log':
        this.#log.frame(frame);
        return;
      case 'ready':
        return;
    }
  }

  /**
   * Security: a request is answered only for the cell that is running and asked for it;
   * the gate (built from this call's allow-list) decides the rest. Requests for any other
   * cell are refused within a budget per sandbox, then dropped unanswered.
   */
  #answerRpc(current: PendingExecution | undefined, frame: RpcRequestFrame): void {
    beginRpcTiming();
    if (!current || current.id !== frame.execId) {
      const answered = this.#refusedForEndedCells.take(1, () =>
        this.#logger.warn(
          { refused: CHANNEL_BUDGETS.refusedForEndedCells },
          'sandbox: further requests for calls that are not running are dropped unanswered',
        ),
      );
      const error = 'The call that sent this request has ended.';
      if (answered) this.#send({ type: 'rpc_response', id: frame.id, success: false, error });
      return;
    }
    void current.rpc.answer(frame.payload).then((answer) => {
      if (answer && !this.#dead) this.#send({ type: 'rpc_response', id: frame.id, ...answer });
      finishRpcTiming();
    });
  }

  /** More than the cap waits for the sandbox: it stopped reading. Replace it. */
  #stoppedReading(queuedBytes: number): void {
    if (this.#dead) return;
    this.#dead = true;
    const execution = this.#current;
    this.#logger.warn({ queuedBytes }, 'sandbox stopped reading its channel; killing it');
    this.#onDeath('it stopped reading its channel', execution !== undefined);
    execution?.finish({
      outcome: 'died',
      exitCode: undefined,
      durationMs: execution.elapsedMs(),
      lostReason: stoppedReadingMessage(MAX_QUEUED_BYTES),
      outOfMemory: false,
    });
    void this.#link.destroy();
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
