import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { processIsAlive } from '../util/process-alive.js';
import { listenInNewFolder } from '../util/socket-folder.js';

/** Where the lane's folder appears inside the sandbox (a read-only bind mount). */
export const LANE_MOUNT = '/run/mcp-bridge';
const SOCKET_NAME = 'channel.sock';
const DIR_PREFIX = 'mcp-bridge-lane-';
const TOKEN_BYTES = 32;
/** A hello is the token (hex) and a newline; anything longer is not ours. */
const MAX_HELLO_BYTES = TOKEN_BYTES * 2 + 1;
const HELLO_TIMEOUT_MS = 5_000;

/** What the boot frame tells the sandbox: where to connect and how to introduce itself. */
export interface LaneOffer {
  path: string;
  token: string;
}

/** The sandbox's end, once it has introduced itself; `rest` is what came after the hello. */
export interface LaneConnection {
  socket: net.Socket;
  rest: Buffer;
}

/**
 * The socket lane: a Unix socket in a folder bind-mounted read-only into the sandbox, which
 * carries the frames instead of the container's stdin/stdout once the sandbox connects.
 * The engine's attach stream passes every line through two more processes (conmon and the
 * Podman service, or the shim and dockerd); the socket is a direct path, about 10× faster
 * per round trip (bench/README.md). Stdin/stdout stay the fallback wherever the socket
 * cannot be reached (an engine in a VM, SELinux labels, a remote engine).
 *
 * Security: the folder is 0711 and the socket 0666 (the sandbox user must connect, and
 * under rootless Podman it is no host user we could chown to), so anyone on the host who
 * can guess the path may connect. Only a connection whose first line is the token, which
 * travels to the sandbox over stdin, is taken; the first such connection closes the
 * listener and unlinks the socket, so nothing can connect after the sandbox did.
 */
export class SocketLane {
  readonly hostDir: string;
  readonly offer: LaneOffer;
  readonly #server: net.Server;
  readonly #token: Buffer;
  readonly #logger: Logger;
  #onConnected: ((connection: LaneConnection) => void) | undefined;
  #taken: net.Socket | undefined;
  #closed: Promise<void> | undefined;

  private constructor(hostDir: string, token: string, server: net.Server, logger: Logger) {
    this.hostDir = hostDir;
    this.offer = { path: `${LANE_MOUNT}/${SOCKET_NAME}`, token };
    this.#token = Buffer.from(`${token}\n`);
    this.#server = server;
    this.#logger = logger;
  }

  /** Makes the folder and listens; rejects if the host cannot (the caller then goes without). */
  static async open(logger: Logger, parent: string = os.tmpdir()): Promise<SocketLane> {
    await removeStaleLanes(parent);
    return listenInNewFolder({
      prefix: path.join(parent, `${DIR_PREFIX}${process.pid}-`),
      socketName: SOCKET_NAME,
      build: (hostDir) => {
        const server = net.createServer();
        const token = randomBytes(TOKEN_BYTES).toString('hex');
        const lane = new SocketLane(hostDir, token, server, logger);
        server.on('connection', (socket) => lane.#greet(socket));
        return { server, owner: lane };
      },
      onError: (error) => logger.warn({ err: error.message }, 'socket lane failed'),
    });
  }

  /** Called once, when the sandbox has connected and introduced itself. */
  onConnected(listener: (connection: LaneConnection) => void): void {
    this.#onConnected = listener;
  }

  /** Stops listening, drops the connection and removes the folder; idempotent, never throws. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#server.close();
      this.#taken?.destroy();
      await rm(this.hostDir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.#closed;
  }

  #greet(socket: net.Socket): void {
    if (this.#taken || this.#closed) {
      socket.destroy();
      return;
    }
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => refuse('no hello in time'), HELLO_TIMEOUT_MS);
    const refuse = (why: string): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      this.#logger.warn({ why }, 'socket lane: refused a connection');
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf(0x0a);
      if (end < 0) {
        if (received.length >= MAX_HELLO_BYTES) refuse('hello too long');
        return;
      }
      const hello = received.subarray(0, end + 1);
      if (hello.length !== this.#token.length || !timingSafeEqual(hello, this.#token)) {
        refuse('wrong token');
        return;
      }
      if (this.#taken || this.#closed) {
        refuse('the lane is taken');
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      this.#take(socket, received.subarray(end + 1));
    };
    socket.on('data', onData);
    socket.on('error', () => undefined); // reported by the lane's user once taken
  }

  #take(socket: net.Socket, rest: Buffer): void {
    this.#taken = socket;
    socket.setNoDelay(true);
    // Nobody may connect after the sandbox: stop listening and unlink the socket file.
    this.#server.close();
    void rm(path.join(this.hostDir, SOCKET_NAME), { force: true });
    if (this.#onConnected) this.#onConnected({ socket, rest });
    else socket.destroy();
  }
}

const swept = new Set<string>();

/** Lane folders of bridges that died without cleaning up (SIGKILL); once per parent folder. */
async function removeStaleLanes(parent: string): Promise<void> {
  if (swept.has(parent)) return;
  swept.add(parent);
  const entries = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      const owner = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
      if (owner && !processIsAlive(Number(owner)))
        await rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}
