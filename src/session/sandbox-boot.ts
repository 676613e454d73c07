import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { FrameReader } from '../channel/frame-reader.js';
import type { ReadyFrame, SandboxFrame } from '../channel/frames.js';
import { SocketLane, type LaneConnection } from '../channel/socket-lane.js';
import { isEngineUnreachable } from '../container/engine-errors.js';
import { SandboxContainer, type ContainerStreams } from '../container/sandbox-container.js';
import { SandboxStartError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { callTimingEnabled } from '../util/call-timing.js';
import { deferred } from '../util/deferred.js';
import type { SandboxSources } from './boot-modules.js';
import type { SandboxBlueprint } from './sandbox-blueprint.js';
import { SandboxLink, frameAllowedFrom, type FrameSource } from './sandbox-link.js';
import { SandboxLog } from './sandbox-log.js';

/** Where a booted sandbox's traffic goes once the handshake is over. */
export interface SandboxEvents {
  onFrame(frame: SandboxFrame): void;
  onEnd(reason: string): void;
}

export interface BootedSandbox {
  link: SandboxLink;
  ready: ReadyFrame;
  nonce: string;
  /** The sandbox's share of the bridge's log (its stderr already goes there). */
  log: SandboxLog;
  /** Routes all further frames and the end of the sandbox to `events`. */
  route(events: SandboxEvents): void;
  /** Milliseconds of each start-up step, for the 'sandbox started' log line. */
  steps: Record<string, number>;
}

const READY_TIMEOUT_MS = 60_000;
const STDERR_TAIL_CHARS = 8192;
/**
 * A runner that dies closes the lane a moment before its watcher's `exited` frame (which
 * says whether it was an OOM kill) arrives over stdout; the container's end is awaited
 * this long before a closed lane counts as the end by itself.
 */
const LANE_CLOSE_GRACE_MS = 2_000;

/**
 * Starts a container and runs the handshake (docs/protocol.md, Start-up): boot frame with
 * the runner's source, a fresh nonce and the socket lane on offer, then `ready`, then the
 * hardening check. Any failure removes the container and explains itself.
 */
export async function bootSandbox(options: {
  docker: Dockerode;
  blueprint: SandboxBlueprint;
  sources: SandboxSources;
  logger: Logger;
}): Promise<BootedSandbox> {
  const { blueprint, logger } = options;
  const nonce = randomBytes(16).toString('hex');
  const ready = deferred<ReadyFrame>();
  ready.promise.catch(() => undefined); // awaited below; an early end must not go unhandled
  const log = new SandboxLog(logger);
  let stderrTail = '';
  let events: SandboxEvents | undefined;
  let laneInUse = false;
  let ended = false;
  const end = (reason: string): void => {
    if (ended) return;
    ended = true;
    if (events) events.onEnd(reason);
    else ready.reject(new Error(reason));
  };
  const readFrames = (source: FrameSource): FrameReader =>
    new FrameReader({
      onFrame: (frame) => {
        if (!frameAllowedFrom(frame.type, source, laneInUse))
          log.invalid(`a '${frame.type}' frame on ${source}, where the runner sends none`, '');
        else if (events) events.onFrame(frame);
        else if (frame.type === 'ready' && frame.nonce === nonce) ready.resolve(frame);
        else if (frame.type === 'log') log.frame(frame);
      },
      onInvalid: (reason, sample) => log.invalid(reason, sample),
    });
  const stdout = readFrames('stdout');
  const streams: ContainerStreams = {
    onStdout: (chunk) => stdout.push(chunk),
    onStderr: (chunk) => {
      const text = chunk.toString('utf8');
      if (events) log.stderr(text);
      else stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    },
    onEnd: end,
  };
  const launch = (laneDir?: string): Promise<SandboxContainer> =>
    SandboxContainer.launch(
      options.docker,
      blueprint.createOptions(['python3', '-u', '-c', options.sources.bootstrap, nonce], laneDir),
      streams,
      logger,
    );

  const began = performance.now();
  const offerLane = blueprint.socketLane && !refusedLane.has(options.docker);
  let lane = offerLane ? await openLane(logger) : undefined;
  const laneOpened = performance.now();
  let container: SandboxContainer;
  try {
    container = await launch(lane?.hostDir);
  } catch (error: unknown) {
    // An engine that did not answer refused nothing: the lane stays on offer.
    if (!lane || isEngineUnreachable(error)) {
      await lane?.close();
      throw error;
    }
    // E.g. an engine in a VM or with a private /tmp cannot mount the folder: go without,
    // from now on, rather than pay a failed create at every start.
    refusedLane.add(options.docker);
    logger.warn({ err: errorMessage(error) }, 'socket lane: the engine refused it; using stdio');
    await lane.close();
    lane = undefined;
    container = await launch();
  }
  const launched = performance.now();
  const link = new SandboxLink(container, lane);
  lane?.onConnected((connection) => {
    link.useLane(connection.socket);
    laneInUse = true;
    wireLane(connection, readFrames('lane'), () => {
      const timer = setTimeout(() => end('it closed its channel socket'), LANE_CLOSE_GRACE_MS);
      timer.unref();
    });
  });
  link.send({
    type: 'boot',
    nonce,
    modules: options.sources.modules,
    entry: options.sources.entry,
    ...(lane ? { lane: lane.offer } : {}),
    ...(callTimingEnabled() ? { timing: true as const } : {}),
  });

  const timer = setTimeout(
    () => ready.reject(new Error(`no answer within ${READY_TIMEOUT_MS / 1000}s`)),
    READY_TIMEOUT_MS,
  );
  let readyFrame: ReadyFrame;
  try {
    readyFrame = await ready.promise;
  } catch (error: unknown) {
    await link.destroy();
    const detail = stderrTail.trim() ? `\nIts stderr said:\n${stderrTail.trim()}` : '';
    throw new SandboxStartError(
      `The sandbox did not start: ${errorMessage(error)}. Check that the image has python3 (MCP_BRIDGE_IMAGE).${detail}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  const readyAt = performance.now();
  // The runner connects before it says ready: a lane still unused now stays unused.
  if (lane && link.channel === 'stdio') await lane.close();

  const problems = blueprint.verify(readyFrame.facts);
  if (problems.length > 0) {
    await link.destroy();
    throw new SandboxStartError(
      `Refusing to run code: the sandbox is not confined as configured.\n  ${problems.join('\n  ')}\n` +
        'Your container engine ignored or overrode these settings; run `npx mcp-server-code-execution-mode doctor`.',
    );
  }
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    link,
    ready: readyFrame,
    nonce,
    log,
    route: (target) => {
      events = target;
    },
    // The container's own steps, then the runner's start (Python, boot frame → ready).
    steps: Object.fromEntries(
      Object.entries({
        lane: laneOpened - began,
        ...container.launchSteps,
        launch: launched - laneOpened,
        ready: readyAt - launched,
        verify: performance.now() - readyAt,
      }).map(([step, ms]) => [step, round(ms)]),
    ),
  };
}

/** Engines that refused to mount a lane folder (see the fallback in bootSandbox). */
const refusedLane = new WeakSet<Dockerode>();

async function openLane(logger: Logger): Promise<SocketLane | undefined> {
  try {
    return await SocketLane.open(logger);
  } catch (error: unknown) {
    logger.warn({ err: errorMessage(error) }, 'socket lane: could not listen; using stdio');
    return undefined;
  }
}

/** Reads frames from the lane; `onClosed` when the sandbox's end of it is gone. */
function wireLane(connection: LaneConnection, reader: FrameReader, onClosed: () => void): void {
  const { socket } = connection;
  if (connection.rest.length > 0) reader.push(connection.rest);
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
  socket.on('close', onClosed);
}
