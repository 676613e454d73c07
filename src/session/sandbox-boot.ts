import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { FrameReader, encodeFrame } from '../channel/frame-reader.js';
import type { ReadyFrame, SandboxFrame } from '../channel/frames.js';
import { SandboxContainer } from '../container/sandbox-container.js';
import { SandboxStartError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { deferred } from '../util/deferred.js';
import type { SandboxSources } from './boot-modules.js';
import type { SandboxBlueprint } from './live-sandbox.js';

/** Where a booted sandbox's traffic goes once the handshake is over. */
export interface SandboxEvents {
  onFrame(frame: SandboxFrame): void;
  onStderr(text: string): void;
  onEnd(reason: string): void;
}

export interface BootedSandbox {
  container: SandboxContainer;
  ready: ReadyFrame;
  nonce: string;
  /** Routes all further frames, stderr and the end of the stream to `events`. */
  route(events: SandboxEvents): void;
}

const READY_TIMEOUT_MS = 60_000;
const STDERR_TAIL_CHARS = 8192;

/**
 * Starts a container and runs the handshake (docs/protocol.md, Start-up): boot frame with
 * the runner's source and a fresh nonce, then `ready`, then the hardening check. Any
 * failure removes the container and explains itself.
 */
export async function bootSandbox(options: {
  docker: Dockerode;
  blueprint: SandboxBlueprint;
  sources: SandboxSources;
  logger: Logger;
}): Promise<BootedSandbox> {
  const nonce = randomBytes(16).toString('hex');
  const ready = deferred<ReadyFrame>();
  let stderrTail = '';
  let events: SandboxEvents | undefined;
  const reader = new FrameReader({
    onFrame: (frame) => {
      if (events) events.onFrame(frame);
      else if (frame.type === 'ready' && frame.nonce === nonce) ready.resolve(frame);
    },
    onInvalid: (reason, sample) =>
      options.logger.warn({ reason, sample }, 'dropped an invalid frame from the sandbox'),
  });
  const container = await SandboxContainer.launch(
    options.docker,
    options.blueprint.createOptions(['python3', '-u', '-c', options.sources.bootstrap, nonce]),
    {
      onStdout: (chunk) => reader.push(chunk),
      onStderr: (chunk) => {
        const text = chunk.toString('utf8');
        if (events) events.onStderr(text);
        else stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
      },
      onEnd: (reason) => {
        if (events) events.onEnd(reason);
        else ready.reject(new Error(reason));
      },
    },
    options.logger,
  );
  const { modules, entry } = options.sources;
  container.write(encodeFrame({ type: 'boot', nonce, modules, entry }));

  const timer = setTimeout(
    () => ready.reject(new Error(`no answer within ${READY_TIMEOUT_MS / 1000}s`)),
    READY_TIMEOUT_MS,
  );
  let readyFrame: ReadyFrame;
  try {
    readyFrame = await ready.promise;
  } catch (error: unknown) {
    await container.destroy();
    const detail = stderrTail.trim() ? `\nIts stderr said:\n${stderrTail.trim()}` : '';
    throw new SandboxStartError(
      `The sandbox did not start: ${errorMessage(error)}. Check that the image has python3 (MCP_BRIDGE_IMAGE).${detail}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }

  const problems = options.blueprint.verify(readyFrame.facts);
  if (problems.length > 0) {
    await container.destroy();
    throw new SandboxStartError(
      `Refusing to run code: the sandbox is not confined as configured.\n  ${problems.join('\n  ')}\n` +
        'Your container engine ignored or overrode these settings; run `npx mcp-server-code-execution-mode doctor`.',
    );
  }
  return {
    container,
    ready: readyFrame,
    nonce,
    route: (target) => {
      events = target;
    },
  };
}
