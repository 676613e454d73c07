import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { SandboxStartError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { attachHijacked } from './attach.js';
import { isEngineUnreachable } from './engine-errors.js';
import { StreamDemuxer } from './stream-demux.js';

export interface ContainerExit {
  exitCode: number | undefined;
  /** The engine's flag; Podman 4.3 reports false even for real OOM kills (measured). */
  engineOomKilled: boolean;
  /** Set when the engine itself could not be asked: why (e.g. connect ECONNREFUSED …). */
  engineUnreachable?: string;
}

/** The writing side of the attach connection. */
export type ContainerStdin = Pick<Duplex, 'write' | 'once' | 'destroyed'>;

export interface ContainerStreams {
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** The attach stream ended: on Podman the container is then gone too. */
  onEnd(reason: string): void;
}

/**
 * One running sandbox container and its attached stdio. It knows nothing of frames: it
 * moves bytes, reports the end of the stream, and kills and removes the container.
 */
export class SandboxContainer {
  readonly id: string;
  readonly #container: Dockerode.Container;
  readonly #socket: Duplex;
  readonly #logger: Logger;
  #destroyed: Promise<void> | undefined;
  /**
   * Until start() succeeded the end of the stream is held back: it may be the launch
   * failing, which the caller learns from launch() itself (and may then launch another
   * container with the same streams). It is never reported for a failed launch.
   */
  #launching = true;
  #endedDuringLaunch: (() => void) | undefined;
  /** Milliseconds of each launch step (create, attach, start), for the start-up log. */
  readonly launchSteps: Record<'create' | 'attach' | 'start', number> = {
    create: 0,
    attach: 0,
    start: 0,
  };

  private constructor(container: Dockerode.Container, socket: Duplex, logger: Logger) {
    this.id = container.id;
    this.#container = container;
    this.#socket = socket;
    this.#logger = logger;
  }

  /** Creates, attaches (before start, so nothing is missed) and starts a container. */
  static async launch(
    docker: Dockerode,
    options: Dockerode.ContainerCreateOptions,
    streams: ContainerStreams,
    logger: Logger,
  ): Promise<SandboxContainer> {
    let container: Dockerode.Container;
    const began = performance.now();
    try {
      container = await docker.createContainer(options);
    } catch (error: unknown) {
      throw new SandboxStartError(
        `Could not create the sandbox container: ${errorMessage(error).trim()}${runtimeHint(options, error)}`,
        {
          cause: error,
        },
      );
    }
    const log = logger.child({ container: container.id.slice(0, 12) });
    let socket: Duplex | undefined;
    try {
      const created = performance.now();
      socket = await attachHijacked(docker, container.id);
      const attached = performance.now();
      const sandbox = new SandboxContainer(container, socket, log);
      sandbox.#wire(streams);
      await container.start();
      sandbox.#launched();
      const steps = sandbox.launchSteps;
      steps.create = created - began;
      steps.attach = attached - created;
      steps.start = performance.now() - attached;
      return sandbox;
    } catch (error: unknown) {
      await container.remove({ force: true }).catch(() => undefined);
      socket?.destroy();
      throw new SandboxStartError(`Could not start the sandbox container: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  #wire(streams: ContainerStreams): void {
    const demuxer = new StreamDemuxer((stream, payload) =>
      stream === 'stdout' ? streams.onStdout(payload) : streams.onStderr(payload),
    );
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      if (this.#launching) this.#endedDuringLaunch = () => streams.onEnd(reason);
      else streams.onEnd(reason);
    };
    this.#socket.on('data', (chunk: Buffer) => demuxer.push(chunk));
    this.#socket.on('end', () => end('its output ended: the container exited or was removed'));
    this.#socket.on('close', () => end('the attach connection closed'));
    this.#socket.on('error', (error) => end(`the attach connection failed: ${error.message}`));
  }

  #launched(): void {
    this.#launching = false;
    // A container whose process ended at once: reported after launch() has returned.
    if (this.#endedDuringLaunch) queueMicrotask(this.#endedDuringLaunch);
  }

  /**
   * The container's stdin, to write to (its `write` returns false when the connection's
   * buffer is full: wait for 'drain'). Only the writing side: output goes to the streams.
   */
  get stdin(): ContainerStdin {
    return this.#socket;
  }

  /**
   * The container's exit status, if the engine still knows it; when the engine does not
   * answer at all, says so (the sandbox was lost with the connection).
   */
  async exitStatus(): Promise<ContainerExit | undefined> {
    try {
      let info = await this.#container.inspect();
      if (info.State.Running) {
        // Its stream can end a moment before the engine sees the container stop: under
        // gVisor (whose out-of-memory death leaves only the exit code to tell) the
        // teardown takes long enough to lose that code. Wait for the stop, briefly.
        await waitAtMost(this.#container.wait(), EXIT_WAIT_MS);
        info = await this.#container.inspect();
        if (info.State.Running) return undefined;
      }
      return { exitCode: info.State.ExitCode, engineOomKilled: info.State.OOMKilled };
    } catch (error: unknown) {
      if (!isEngineUnreachable(error)) return undefined;
      return {
        exitCode: undefined,
        engineOomKilled: false,
        engineUnreachable: errorMessage(error),
      };
    }
  }

  /** Kills and removes the container; idempotent, never throws. */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      // Remove first, then drop the connection: closing the attach stream first makes
      // Podman stop the container under us, and its forced remove then fails with
      // "container state improper". One retry covers a container stopping by itself.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        try {
          await this.#container.remove({ force: true, v: true });
          break;
        } catch (error: unknown) {
          const message = errorMessage(error);
          if (/no such container|404/i.test(message)) break; // already gone
          if (attempt === 1 || !/state improper|could not be stopped|409/i.test(message)) {
            this.#logger.warn({ err: message }, 'could not remove sandbox container');
            break;
          }
        }
      }
      this.#socket.destroy();
    })();
    return this.#destroyed;
  }
}

/** How long exitStatus waits for a container whose stream ended to be seen stopped. */
const EXIT_WAIT_MS = 5_000;

/** Resolves when `promise` settles or after `ms`, whichever comes first; never rejects. */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([
      promise.then(
        () => undefined,
        () => undefined,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** For an engine that does not know the OCI runtime we asked for (Docker: "Unknown runtime"). */
function runtimeHint(options: Dockerode.ContainerCreateOptions, error: unknown): string {
  const runtime = options.HostConfig?.Runtime;
  if (!runtime || !/runtime/i.test(errorMessage(error))) return '';
  return `. MCP_BRIDGE_OCI_RUNTIME=${runtime} needs the engine to have that runtime (README, "gVisor (optional)"), or unset it`;
}
