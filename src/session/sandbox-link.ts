import type { Socket } from 'node:net';
import { BoundedWriter, type ByteSink } from '../channel/bounded-writer.js';
import { encodeFrame } from '../channel/frame-reader.js';
import type { HostFrame, SandboxFrame } from '../channel/frames.js';
import type { SocketLane } from '../channel/socket-lane.js';
import type { ContainerExit, SandboxContainer } from '../container/sandbox-container.js';

/** How frames reach a sandbox: the socket lane once it is connected, stdin before or without. */
export type ChannelKind = 'socket' | 'stdio';

/** Where a frame from the sandbox arrived: the container's stdout, or the socket lane. */
export type FrameSource = 'stdout' | 'lane';

/**
 * Whether a frame of `type` may come from `source`. The watcher (the runner's parent)
 * writes only to the container's stdout, and once the runner is on the lane it writes
 * nothing there; so with the lane in use, stdout carries only the watcher's `exited` and
 * `log` frames, and the lane never carries `exited`. Anything else is forged by user
 * code writing to a descriptor it reached, and is dropped.
 */
export function frameAllowedFrom(
  type: SandboxFrame['type'],
  source: FrameSource,
  laneInUse: boolean,
): boolean {
  if (source === 'lane') return type !== 'exited';
  return !laneInUse || type === 'exited' || type === 'log';
}

/**
 * The bridge's end of one sandbox: its container and the path its frames take. Frames go
 * to the lane once the sandbox has connected to it, to the container's stdin until then.
 * Both paths respect back-pressure, and what waits on them is capped (BoundedWriter): past
 * the cap the link reports an overflow, once, and sends nothing more.
 */
export class SandboxLink {
  readonly #container: SandboxContainer;
  readonly #lane: SocketLane | undefined;
  readonly #stdin: BoundedWriter;
  #laneWriter: BoundedWriter | undefined;
  #onOverflow: ((queuedBytes: number) => void) | undefined;
  #overflowed = false;

  constructor(container: SandboxContainer, lane: SocketLane | undefined) {
    this.#container = container;
    this.#lane = lane;
    this.#stdin = this.#writerTo(container.stdin);
  }

  get id(): string {
    return this.#container.id;
  }

  get channel(): ChannelKind {
    return this.#laneWriter ? 'socket' : 'stdio';
  }

  /** Whether frames sent to the sandbox wait because it has not read what came before. */
  get backedUp(): boolean {
    return (this.#laneWriter ?? this.#stdin).backedUp;
  }

  /** From now on frames go over `socket` (the sandbox reads both; it listens there too). */
  useLane(socket: Socket): void {
    this.#laneWriter = this.#writerTo(socket);
  }

  /** Told once when the frames waiting for the sandbox pass the cap. */
  onOverflow(listener: (queuedBytes: number) => void): void {
    this.#onOverflow = listener;
  }

  send(frame: HostFrame): void {
    // A closed lane means a dying runner; it reads nothing any more, wherever we write.
    (this.#laneWriter ?? this.#stdin).write(encodeFrame(frame));
  }

  exitStatus(): Promise<ContainerExit | undefined> {
    return this.#container.exitStatus();
  }

  /** Kills and removes the container and closes the lane; idempotent, never throws. */
  async destroy(): Promise<void> {
    await Promise.all([this.#container.destroy(), this.#lane?.close()]);
  }

  #writerTo(sink: ByteSink): BoundedWriter {
    return new BoundedWriter(sink, {
      onOverflow: (queuedBytes) => {
        if (this.#overflowed) return;
        this.#overflowed = true;
        this.#onOverflow?.(queuedBytes);
      },
    });
  }
}
