import type { Socket } from 'node:net';
import { encodeFrame } from '../channel/frame-reader.js';
import type { HostFrame } from '../channel/frames.js';
import type { SocketLane } from '../channel/socket-lane.js';
import type { ContainerExit, SandboxContainer } from '../container/sandbox-container.js';

/** How frames reach a sandbox: the socket lane once it is connected, stdin before or without. */
export type ChannelKind = 'socket' | 'stdio';

/**
 * The bridge's end of one sandbox: its container and the path its frames take. Frames go
 * to the lane once the sandbox has connected to it, to the container's stdin until then.
 */
export class SandboxLink {
  readonly #container: SandboxContainer;
  readonly #lane: SocketLane | undefined;
  #laneSocket: Socket | undefined;

  constructor(container: SandboxContainer, lane: SocketLane | undefined) {
    this.#container = container;
    this.#lane = lane;
  }

  get id(): string {
    return this.#container.id;
  }

  get channel(): ChannelKind {
    return this.#laneSocket ? 'socket' : 'stdio';
  }

  /** From now on frames go over `socket` (the sandbox reads both; it listens there too). */
  useLane(socket: Socket): void {
    this.#laneSocket = socket;
  }

  send(frame: HostFrame): void {
    const line = encodeFrame(frame);
    // A closed lane means a dying runner; it reads nothing any more, wherever we write.
    if (this.#laneSocket) {
      if (!this.#laneSocket.destroyed) this.#laneSocket.write(line);
    } else this.#container.write(line);
  }

  exitStatus(): Promise<ContainerExit | undefined> {
    return this.#container.exitStatus();
  }

  /** Kills and removes the container and closes the lane; idempotent, never throws. */
  async destroy(): Promise<void> {
    await Promise.all([this.#container.destroy(), this.#lane?.close()]);
  }
}
