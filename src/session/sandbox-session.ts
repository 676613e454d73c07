import type { BridgeConfig } from '../config/env.js';
import type { LocatedEngine } from '../container/engine-locator.js';
import { ensureImage } from '../container/image.js';
import { engineDownError, isEngineUnreachable } from '../container/engine-errors.js';
import { removeLeftoverContainers, removeOwnSandboxes } from '../container/leftovers.js';
import { QueueFullError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { markStage } from '../util/call-timing.js';
import type { SandboxSources } from './boot-modules.js';
import { cancelledBeforeStart, cancelledStateLostNotice } from './cancellation.js';
import { displayLimits } from './display-collector.js';
import {
  LiveSandbox,
  type ExecutionRequest,
  type ExecutionResult,
  type SandboxBlueprint,
} from './live-sandbox.js';
import { DEFAULT_SESSION } from '../util/default-session.js';

/** Sandboxes started for one call whose start-up cell failed, before one starts without it. */
const MAX_STARTUP_ATTEMPTS = 3;
/** The pre-warm's empty cell; a sandbox that cannot run `pass` in this time is no use. */
const WARM_CELL_TIMEOUT_MS = 30_000;

/** What a call's cell may reach: the servers loaded for it and its request handler. */
export type CallServers = Pick<ExecutionRequest, 'servers' | 'rpc'>;

/**
 * How the client follows a call: its cancellation and who watches it run. `rehearsal`:
 * the bridge's own synthetic call at pre-warm (src/server/call-rehearsal.ts), which must
 * leave no trace: it never starts a sandbox, never waits behind or delays a waiting call,
 * does not count as the agent's use of the sandbox, and leaves /workspace/out alone.
 */
export type CallControl = Pick<ExecutionRequest, 'signal' | 'observer'> & {
  rehearsal?: boolean;
};

export interface RunReport extends ExecutionResult {
  /** Things the caller should know that are not the code's output, e.g. a state reset. */
  notices: string[];
}

/** An internal cell run first in every new sandbox (loading the saved tools). */
export interface StartupCell {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /**
   * Reads the cell's result: notices for the agent's next result, and whether this
   * sandbox may be used (false: it is discarded and another one started).
   */
  settle(result: ExecutionResult): { notices: string[]; usable: boolean };
}

export interface SessionStartup {
  /** Things to tell the agent on its next result. */
  notices: string[];
  cell: StartupCell | undefined;
}

export interface SessionDependencies {
  config: BridgeConfig;
  /**
   * The session's name (run_python's `session`): its containers carry it as a label, so
   * clearing this session's strays never touches another session's sandbox.
   */
  name?: string;
  logger: Logger;
  /** Read at every sandbox start, so host data (saved tools) is current. */
  sources(): SandboxSources;
  /** Asked at every sandbox start (so it reads current host data, e.g. saved tools). */
  startup?: () => SessionStartup;
  connectEngine(): Promise<LocatedEngine>;
  blueprint(engine: LocatedEngine): SandboxBlueprint;
}

/**
 * The agent's Python session: one long-lived sandbox, started when the client has
 * initialized (prewarm) or else on first use, reused by
 * every call, replaced when it dies or idles out. Calls run one at a time in arrival
 * order; the wait queue is bounded.
 */
export class SandboxSession {
  readonly #deps: SessionDependencies;
  readonly #logger: Logger;
  #engine: Promise<LocatedEngine> | undefined;
  #imageReady = false;
  #sandbox: LiveSandbox | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #pendingNotice: string | undefined;
  #closed = false;
  /** The pre-warm is queued or running. */
  #warming = false;
  /** Set once a sandbox start was tried: later starts first clear what earlier ones left. */
  #mayHaveStrays = false;
  /** A container being created and booted: close() waits for it, then removes it. */
  #booting: Promise<LiveSandbox> | undefined;
  /** Sandboxes that ran a call: only their loss costs the agent state worth a notice. */
  readonly #used = new WeakSet<LiveSandbox>();
  /** `runtime.reset()` was called: the sandbox is replaced once the current call answers. */
  #resetRequested = false;
  /** Sandboxes being removed after a reset; close() waits for them. */
  readonly #retiring = new Set<Promise<void>>();

  constructor(deps: SessionDependencies) {
    this.#deps = deps;
    this.#logger = deps.logger.child({
      component: 'session',
      session: deps.name ?? DEFAULT_SESSION,
    });
  }

  /**
   * Whether this session holds a sandbox or will soon: one is alive or starting, or calls
   * are queued or running. A session whose sandbox idled out (or was reset) is not active,
   * so it does not count against MCP_BRIDGE_MAX_SESSIONS.
   */
  get active(): boolean {
    return (
      this.#waiting > 0 ||
      this.#booting !== undefined ||
      this.#warming ||
      this.#sandbox?.alive === true
    );
  }

  /**
   * `runtime.reset()`: ends this session's state on purpose. The sandbox is removed after
   * the call that asked answers, and the next call starts a fresh one. Idempotent: asking
   * many times (a loop, a thread) is one reset, and it only ever reaches this session.
   */
  requestReset(): void {
    this.#resetRequested = true;
  }

  /** Takes the notices waiting for this session's next call (when the pool forgets it). */
  takePendingNotice(): string | undefined {
    const notice = this.#pendingNotice;
    this.#pendingNotice = undefined;
    return notice;
  }

  /** Queues a notice for this session's next call (what a forgotten session left). */
  addNotice(notice: string): void {
    this.#addNotice(notice);
  }

  /** The engine, if this session ever connected (the pool stops an owned service once). */
  async connectedEngine(): Promise<LocatedEngine | undefined> {
    return this.#engine?.catch(() => undefined);
  }

  /** Runs code in the session. Rejects only with operational errors (no engine, bad image…). */
  /**
   * `internal`: the bridge's own helper cell (safety check, import scan); notices such as
   * a session reset stay pending for the next call the agent makes. `signal` and
   * `observer` (CallControl): a call cancelled while it waits never starts; a running one
   * is interrupted as on timeout. `returnsMedia: false`: a call whose answer cannot carry
   * images or files (the executor toolset's JSON); its cell leaves `/workspace/out` alone,
   * so a later `run_python` still returns what it wrote there.
   */
  run(
    code: string,
    timeoutSeconds: number,
    mcp: CallServers = {},
    options: { internal?: boolean; returnsMedia?: boolean } & CallControl = {},
  ): Promise<RunReport> {
    if (options.rehearsal === true) return this.#rehearse(code, timeoutSeconds, mcp);
    if (this.#waiting >= this.#deps.config.queueLimit) {
      return Promise.reject(
        new QueueFullError(
          `Too many run_python calls are waiting (${this.#waiting}, limit MCP_BRIDGE_QUEUE_LIMIT=${this.#deps.config.queueLimit}); wait for earlier calls to finish and retry.`,
        ),
      );
    }
    this.#waiting += 1;
    const control = { signal: options.signal, observer: options.observer };
    const result = this.#tail.then(() =>
      this.#runNow(
        code,
        timeoutSeconds,
        { ...mcp, ...control },
        {
          internal: options.internal === true,
          media: options.internal !== true && options.returnsMedia !== false,
        },
      ),
    );
    this.#tail = result.catch(() => undefined);
    return result.finally(() => {
      this.#waiting -= 1;
    });
  }

  /**
   * The rehearsal's cell (CallControl): only in a sandbox that is up and idle, outside the
   * queue count (an agent's call is never refused or reaped because of it), with the
   * agent's notices left pending. Skipped (reported as cancelled before start) otherwise.
   */
  #rehearse(code: string, timeoutSeconds: number, mcp: CallServers): Promise<RunReport> {
    const skipped = (): RunReport => ({ ...cancelledBeforeStart(), notices: [] });
    if (this.#waiting > 0 || !this.#sandbox?.alive) return Promise.resolve(skipped());
    const result = this.#tail.then(async () => {
      const sandbox = this.#sandbox;
      if (this.#closed || this.#waiting > 0 || !sandbox?.alive) return skipped();
      const outcome = await sandbox.execute({
        code,
        timeoutMs: timeoutSeconds * 1000,
        maxOutputChars: this.#deps.config.outputLimitChars,
        ...mcp,
        // Images as for run_python; files out not looked at (they stay for the agent).
        display: { ...displayLimits(this.#deps.config.display), maxFiles: 0 },
      });
      if (!sandbox.alive && this.#sandbox === sandbox) this.#sandbox = undefined;
      return { ...outcome, notices: [] };
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Connects to the engine and clears a dead bridge's leftovers, without failing anything.
   * Then, while the client initializes, does the read-only part of a sandbox start ahead:
   * the image is looked at (not pulled), the create options built (the seccomp file
   * written) and the runner's source read, so the pre-warm goes straight to the create.
   */
  warmUp(): void {
    this.#connect()
      .then(async (engine) => {
        this.#deps.sources();
        this.#deps.blueprint(engine);
        if (this.#imageReady) return;
        await engine.docker.getImage(this.#deps.config.image).inspect();
        this.#imageReady = true;
      })
      .catch((error: unknown) =>
        // The first start does it again, and reports what fails.
        this.#logger.debug({ err: errorMessage(error) }, 'engine or image not ready yet'),
      );
  }

  /**
   * Starts the sandbox ahead of the first call (the client has initialized, and usually
   * sends its first call seconds later). It takes the queue's place like a call, so a call
   * arriving meanwhile waits only for what is left of the start. A failure is only logged:
   * the first call then starts a sandbox as it always did, and reports what went wrong.
   * Resolves true when a sandbox is up (the bridge then rehearses a call in it).
   */
  prewarm(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const started = performance.now();
    this.#warming = true;
    const ready = this.#tail.then(async () => {
      if (this.#closed || this.#sandbox?.alive) {
        this.#warming = false;
        return this.#sandbox?.alive === true;
      }
      try {
        const sandbox = await this.#ensureSandbox();
        // One empty cell: the runner loads what every first cell needs (the rest of the
        // in-sandbox `mcp` package), so the agent's first call does not pay for it.
        await sandbox.execute({ code: 'pass', timeoutMs: WARM_CELL_TIMEOUT_MS, maxOutputChars: 0 });
        this.#logger.info({ ms: Math.round(performance.now() - started) }, 'sandbox pre-warmed');
        return sandbox.alive;
      } catch (error: unknown) {
        this.#logger.info(
          { err: errorMessage(error), ms: Math.round(performance.now() - started) },
          'sandbox pre-warm failed; the first call starts one',
        );
        return false;
      } finally {
        this.#warming = false;
        this.#armIdleTimer(); // a pre-warmed sandbox idles out like any other
      }
    });
    this.#tail = ready;
    return ready;
  }

  /**
   * Removes this session's sandbox (and its strays). `stopEngine`: also stop a Podman
   * service the bridge started; the pool does that once, after every session closed.
   * `removeStrays: false`: the pool forgets an inactive session, whose name a new session
   * may take at once; that one's container must not be mistaken for a stray.
   */
  async close(options: { stopEngine?: boolean; removeStrays?: boolean } = {}): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    // A container still booting (e.g. the pre-warm) is removed once it exists.
    await this.#booting?.catch(() => undefined);
    const sandbox = this.#sandbox;
    this.#sandbox = undefined;
    await sandbox?.destroy();
    await Promise.all(this.#retiring);
    const engine = await this.#engine?.catch(() => undefined);
    if (engine && this.#mayHaveStrays && options.removeStrays !== false) {
      await removeOwnSandboxes(engine.docker, this.#logger, this.#deps.name);
    }
    if (options.stopEngine !== false) await engine?.ownedService?.stop();
  }

  async #runNow(
    code: string,
    timeoutSeconds: number,
    mcp: CallServers & CallControl,
    { internal, media }: { internal: boolean; media: boolean },
  ): Promise<RunReport> {
    // Cancelled while it waited: it never starts (not even a sandbox for it).
    if (mcp.signal?.aborted) return { ...cancelledBeforeStart(), notices: [] };
    markStage('dequeued');
    clearTimeout(this.#idleTimer);
    try {
      const sandbox = await this.#ensureSandbox();
      this.#used.add(sandbox);
      const notices = internal ? [] : this.#takeNotices();
      const result = await sandbox.execute({
        code,
        timeoutMs: timeoutSeconds * 1000,
        maxOutputChars: this.#deps.config.outputLimitChars,
        ...mcp,
        // run_python returns images and files; the bridge's own cells and the executor's
        // JSON answers do not.
        ...(media ? { display: displayLimits(this.#deps.config.display) } : {}),
      });
      if (!sandbox.alive && this.#sandbox === sandbox) this.#sandbox = undefined;
      if (result.outcome === 'cancelled') {
        // The client never sees a cancelled call's result: what it should have said waits
        // for the next call.
        for (const notice of notices) this.#addNotice(notice);
        if (result.lostReason) this.#addNotice(cancelledStateLostNotice(result.lostReason));
      }
      return { ...result, notices };
    } finally {
      this.#applyReset();
      this.#armIdleTimer();
    }
  }

  /** After a call that asked for `runtime.reset()`: its sandbox goes, the answer does not wait. */
  #applyReset(): void {
    if (!this.#resetRequested) return;
    this.#resetRequested = false;
    const sandbox = this.#sandbox;
    this.#sandbox = undefined;
    this.#pendingNotice = undefined; // whatever the old sandbox left is moot now
    this.#addNotice(
      'This session was reset (runtime.reset() in an earlier call): this call runs in a fresh sandbox, so earlier variables and imports are gone.',
    );
    if (!sandbox) return;
    this.#logger.info('session reset: removing its sandbox');
    const retiring = sandbox.destroy().catch((error: unknown) => {
      this.#logger.warn({ err: errorMessage(error) }, 'could not remove a reset sandbox');
    });
    this.#retiring.add(retiring);
    void retiring.finally(() => this.#retiring.delete(retiring));
  }

  #takeNotices(): string[] {
    const notice = this.#pendingNotice;
    this.#pendingNotice = undefined;
    return notice ? [notice] : [];
  }

  async #ensureSandbox(): Promise<LiveSandbox> {
    if (this.#closed) throw new Error('the bridge is shutting down');
    if (this.#sandbox?.alive) return this.#sandbox;
    this.#sandbox = undefined;
    const engine = await this.#connect();
    try {
      return await this.#startUsableSandbox(engine);
    } catch (error: unknown) {
      // E.g. the Podman service or dockerd restarting: say which address does not answer.
      if (isEngineUnreachable(error)) throw engineDownError(engine.dockerHost, error);
      throw error;
    }
  }

  /** A started sandbox whose start-up cell (the saved tools) ran. */
  async #startUsableSandbox(engine: LocatedEngine): Promise<LiveSandbox> {
    if (!this.#imageReady) {
      await ensureImage(engine.docker, this.#deps.config.image, this.#logger);
      this.#imageReady = true;
    }
    // A start-up cell that fails makes its sandbox unfit (e.g. a saved tool hung it);
    // settling it quarantines the cause, so the next attempt goes further.
    for (let attempt = 1; ; attempt += 1) {
      const sandbox = await this.#startSandbox(engine);
      this.#sandbox = sandbox; // close() reaches it while it loads
      if (attempt > MAX_STARTUP_ATTEMPTS) {
        this.#addNotice(
          `Saved tools were not loaded in this session: loading them failed ${MAX_STARTUP_ATTEMPTS} times (see the bridge's log).`,
        );
        return sandbox;
      }
      if (await this.#runStartup(sandbox)) return sandbox;
      if (this.#sandbox === sandbox) this.#sandbox = undefined;
      await sandbox.destroy();
      if (this.#closed) throw new Error('the bridge is shutting down');
    }
  }

  async #startSandbox(engine: LocatedEngine): Promise<LiveSandbox> {
    if (this.#closed) throw new Error('the bridge is shutting down');
    const booting = this.#bootSandbox(engine);
    this.#booting = booting;
    try {
      return await booting;
    } finally {
      if (this.#booting === booting) this.#booting = undefined;
    }
  }

  async #bootSandbox(engine: LocatedEngine): Promise<LiveSandbox> {
    // A sandbox that died while the engine was away could not be removed then.
    if (this.#mayHaveStrays) {
      await Promise.all(this.#retiring); // a reset sandbox is gone before the next starts
      await removeOwnSandboxes(engine.docker, this.#logger, this.#deps.name);
    }
    this.#mayHaveStrays = true;
    const started = performance.now();
    const sandbox = await LiveSandbox.start({
      docker: engine.docker,
      blueprint: this.#deps.blueprint(engine),
      sources: this.#deps.sources(),
      logger: this.#logger,
      interruptGraceMs: this.#deps.config.interruptGraceSeconds * 1000,
      onDeath: (reason, duringCall) => {
        if (this.#sandbox === sandbox) this.#sandbox = undefined;
        if (!duringCall && !this.#closed && this.#used.has(sandbox)) {
          this.#addNotice(
            `The sandbox stopped between calls (${reason}); this call runs in a fresh one, so earlier variables and imports are gone.`,
          );
        }
      },
    });
    if (this.#closed) {
      await sandbox.destroy();
      throw new Error('the bridge is shutting down');
    }
    this.#logger.info(
      {
        ms: Math.round(performance.now() - started),
        engine: engine.kind,
        channel: sandbox.channel,
        steps: sandbox.startSteps,
      },
      'sandbox started',
    );
    return sandbox;
  }

  /** Runs the start-up cell, if any; false when the sandbox should not be used. */
  async #runStartup(sandbox: LiveSandbox): Promise<boolean> {
    const startup = this.#deps.startup?.();
    for (const notice of startup?.notices ?? []) this.#addNotice(notice);
    const cell = startup?.cell;
    if (!cell) return true;
    const result = await sandbox.execute({
      code: cell.code,
      timeoutMs: cell.timeoutMs,
      maxOutputChars: cell.maxOutputChars,
    });
    const { notices, usable } = cell.settle(result);
    for (const notice of notices) this.#addNotice(notice);
    return usable && sandbox.alive;
  }

  #addNotice(notice: string): void {
    this.#pendingNotice = [this.#pendingNotice, notice].filter(Boolean).join('\n');
  }

  #connect(): Promise<LocatedEngine> {
    this.#engine ??= this.#deps.connectEngine().then(
      async (engine) => {
        await removeLeftoverContainers(engine.docker, this.#logger).catch((error: unknown) =>
          this.#logger.warn({ err: errorMessage(error) }, 'could not list leftover sandboxes'),
        );
        return engine;
      },
      (error: unknown) => {
        // Not cached: the user may start their engine and simply call again.
        this.#engine = undefined;
        throw error;
      },
    );
    return this.#engine;
  }

  #armIdleTimer(): void {
    const seconds = this.#deps.config.idleTimeoutSeconds;
    if (seconds <= 0 || this.#closed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const sandbox = this.#sandbox;
      if (!sandbox || this.#waiting > 0) return;
      this.#sandbox = undefined;
      if (this.#used.has(sandbox)) {
        this.#addNotice(
          `The sandbox was stopped after ${seconds}s without calls (MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT); this call runs in a fresh one, so earlier variables and imports are gone.`,
        );
      }
      this.#logger.info({ idleSeconds: seconds }, 'stopping idle sandbox');
      void sandbox.destroy();
    }, seconds * 1000);
    this.#idleTimer.unref();
  }
}
