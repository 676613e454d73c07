import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { FrameReader, encodeFrame } from '../channel/frame-reader.js';
import type {
  DoneFrame,
  ExitedFrame,
  HostFrame,
  ReadyFrame,
  SandboxFacts,
  SandboxFrame,
} from '../channel/frames.js';
import { SandboxContainer } from '../container/sandbox-container.js';
import { SandboxStartError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SandboxSources } from './boot-modules.js';
import { deferred } from '../util/deferred.js';
import { describeSandboxDeath } from './death-reason.js';
import { OutputCollector } from './output-collector.js';

/** What a sandbox needs from the hardening layer, without knowing it. */
export interface SandboxBlueprint {
  createOptions(command: string[]): Dockerode.ContainerCreateOptions;
  /** One message per hardening setting the sandbox reports as not applied. */
  verify(facts: SandboxFacts): string[];
  memoryLimitBytes: number;
}

export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
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

interface RunningExecution {
  id: number;
  stdout: OutputCollector;
  stderr: OutputCollector;
  startedAt: number;
  timedOut: boolean;
  timers: NodeJS.Timeout[];
  finish(result: Omit<ExecutionResult, 'stdout' | 'stderr'>, dropped?: DoneFrame['dropped']): void;
}

const READY_TIMEOUT_MS = 60_000;
const STDERR_TAIL_CHARS = 8192;

/**
 * One booted sandbox container: the handshake, one execution at a time, timeouts and
 * death. The session above decides when to start a new one.
 */
export class LiveSandbox {
  readonly #container: SandboxContainer;
  readonly #logger: Logger;
  readonly #blueprint: SandboxBlueprint;
  readonly #interruptGraceMs: number;
  #nextId = 1;
  #current: RunningExecution | undefined;
  #exited: ExitedFrame | undefined;
  #dead = false;
  #nonce = '';
  #stderrTail = '';
  #onDeath: (reason: string, duringCall: boolean) => void = () => undefined;
  readonly ready: ReadyFrame;

  private constructor(
    container: SandboxContainer,
    ready: ReadyFrame,
    blueprint: SandboxBlueprint,
    logger: Logger,
    interruptGraceMs: number,
  ) {
    this.#container = container;
    this.ready = ready;
    this.#blueprint = blueprint;
    this.#logger = logger;
    this.#interruptGraceMs = interruptGraceMs;
  }

  get alive(): boolean {
    return !this.#dead;
  }

  get containerId(): string {
    return this.#container.id;
  }

  /** Starts a container, boots the runner, and checks its hardening before any user code. */
  static async start(options: {
    docker: Dockerode;
    blueprint: SandboxBlueprint;
    sources: SandboxSources;
    logger: Logger;
    interruptGraceMs: number;
    onDeath: (reason: string, duringCall: boolean) => void;
  }): Promise<LiveSandbox> {
    const nonce = randomBytes(16).toString('hex');
    const command = ['python3', '-u', '-c', options.sources.bootstrap, nonce];
    // Frames and stream events reach the sandbox object once it exists, the handshake before.
    const live: { sandbox?: LiveSandbox } = {};
    let stderrTail = '';
    const boot = deferred<ReadyFrame>();
    const reader = new FrameReader({
      onFrame: (frame) => {
        if (live.sandbox) live.sandbox.#handleFrame(frame);
        else if (frame.type === 'ready' && frame.nonce === nonce) boot.resolve(frame);
      },
      onInvalid: (reason, sample) =>
        options.logger.warn({ reason, sample }, 'dropped an invalid frame from the sandbox'),
    });
    const container = await SandboxContainer.launch(
      options.docker,
      options.blueprint.createOptions(command),
      {
        onStdout: (chunk) => reader.push(chunk),
        onStderr: (chunk) => {
          const text = chunk.toString('utf8');
          if (live.sandbox) live.sandbox.#recordStderr(text);
          else stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
        },
        onEnd: (reason) => {
          if (live.sandbox) live.sandbox.#handleEnd(reason);
          else boot.reject(new Error(reason));
        },
      },
      options.logger,
    );
    container.write(
      encodeFrame({
        type: 'boot',
        nonce,
        modules: options.sources.modules,
        entry: options.sources.entry,
      }),
    );

    let ready: ReadyFrame;
    const timer = setTimeout(
      () => boot.reject(new Error(`no answer within ${READY_TIMEOUT_MS / 1000}s`)),
      READY_TIMEOUT_MS,
    );
    try {
      ready = await boot.promise;
    } catch (error: unknown) {
      await container.destroy();
      const detail = stderrTail.trim() ? `\nIts stderr said:\n${stderrTail.trim()}` : '';
      throw new SandboxStartError(
        `The sandbox did not start: ${(error as Error).message}. Check that the image has python3 (MCP_BRIDGE_IMAGE).${detail}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }

    const problems = options.blueprint.verify(ready.facts);
    if (problems.length > 0) {
      await container.destroy();
      throw new SandboxStartError(
        `Refusing to run code: the sandbox is not confined as configured.\n  ${problems.join('\n  ')}\n` +
          'Your container engine ignored or overrode these settings; run `npx mcp-server-code-execution-mode doctor`.',
      );
    }
    const sandbox = new LiveSandbox(
      container,
      ready,
      options.blueprint,
      options.logger,
      options.interruptGraceMs,
    );
    sandbox.#nonce = nonce;
    sandbox.#stderrTail = stderrTail;
    sandbox.#onDeath = options.onDeath;
    live.sandbox = sandbox;
    options.logger.debug(
      { python: ready.python, container: container.id.slice(0, 12) },
      'sandbox ready',
    );
    return sandbox;
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
      const execution: RunningExecution = {
        id,
        stdout: new OutputCollector(request.maxOutputChars),
        stderr: new OutputCollector(request.maxOutputChars),
        startedAt: performance.now(),
        timedOut: false,
        timers: [],
        finish: (result, dropped) => {
          if (this.#current !== execution) return;
          this.#current = undefined;
          execution.timers.forEach(clearTimeout);
          resolve({
            ...result,
            stdout: execution.stdout.text(dropped?.stdout),
            stderr: execution.stderr.text(dropped?.stderr),
          });
        },
      };
      this.#current = execution;
      execution.timers.push(setTimeout(() => this.#onTimeout(execution), request.timeoutMs));
      this.#send({
        type: 'execute',
        id,
        code: request.code,
        maxOutputChars: request.maxOutputChars,
      });
    });
  }

  /** Kills and removes the container. */
  async destroy(): Promise<void> {
    this.#dead = true; // a deliberate stop is not a death to report
    await this.#container.destroy();
  }

  #send(frame: HostFrame): void {
    this.#container.write(encodeFrame(frame));
  }

  #onTimeout(execution: RunningExecution): void {
    execution.timedOut = true;
    this.#send({ type: 'interrupt', id: execution.id });
    execution.timers.push(
      setTimeout(() => {
        const grace = this.#interruptGraceMs / 1000;
        this.#markDead();
        execution.finish({
          outcome: 'timeout',
          exitCode: undefined,
          durationMs: performance.now() - execution.startedAt,
          lostReason: `The code ignored the interrupt for ${grace}s (e.g. a long C-level loop), so the sandbox was killed and restarted: the session state (variables, imports) was lost.`,
          outOfMemory: false,
        });
        void this.#container.destroy();
      }, this.#interruptGraceMs),
    );
  }

  #handleFrame(frame: SandboxFrame): void {
    const current = this.#current;
    switch (frame.type) {
      case 'stdout':
      case 'stderr':
        if (current?.id === frame.id) current[frame.type].append(frame.data);
        return;
      case 'done':
        if (current?.id === frame.id) this.#finishFromDone(current, frame);
        return;
      case 'exited':
        if (frame.nonce === this.#nonce) this.#exited = frame;
        return;
      case 'rpc_request':
        // Proxying to MCP servers arrives with the servers feature; until then no server
        // is loaded, which is exactly the answer an unlisted server gets.
        this.#send({
          type: 'rpc_response',
          id: frame.id,
          success: false,
          error: `Server '${typeof frame.payload.server === 'string' ? frame.payload.server : ''}' is not available`,
        });
        return;
      case 'log':
        this.#logger[frame.level]({ sandbox: true }, frame.message.slice(0, 2000));
        return;
      case 'ready':
        return;
    }
  }

  #finishFromDone(execution: RunningExecution, frame: DoneFrame): void {
    const base = { durationMs: frame.durationMs, lostReason: undefined, outOfMemory: false };
    if (frame.outcome === 'interrupted' && execution.timedOut) {
      execution.finish({ ...base, outcome: 'timeout', exitCode: frame.exitCode }, frame.dropped);
      return;
    }
    const outcome = frame.outcome === 'completed' ? 'completed' : 'exception';
    execution.finish({ ...base, outcome, exitCode: frame.exitCode }, frame.dropped);
  }

  #recordStderr(text: string): void {
    this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
    this.#logger.warn({ stderr: text.slice(0, 2000) }, 'sandbox wrote to its stderr');
  }

  #markDead(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#onDeath('killed after ignoring an interrupt', true);
  }

  #handleEnd(reason: string): void {
    const wasDead = this.#dead;
    if (wasDead && !this.#current) return; // our own destroy(): nothing to report
    this.#dead = true;
    if (!wasDead) this.#onDeath(reason, this.#current !== undefined);
    const execution = this.#current;
    void this.#container.exitStatus().then((exit) => {
      const death = describeSandboxDeath({
        exited: this.#exited,
        exit,
        memoryLimitBytes: this.#blueprint.memoryLimitBytes,
      });
      this.#logger.warn({ reason, exit, exited: this.#exited }, 'sandbox ended');
      execution?.finish({
        outcome: 'died',
        exitCode: exit?.exitCode,
        durationMs: performance.now() - execution.startedAt,
        lostReason: death.message,
        outOfMemory: death.outOfMemory,
      });
      void this.#container.destroy();
    });
  }
}
