import { rm } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../logger.js';
import { listenInNewFolder } from '../../util/socket-folder.js';
import { decideRelayRequest, type HostLookup } from './relay-decision.js';
import {
  forwardRequest,
  hasBody,
  openTunnel,
  refuseRequest,
  refuseTunnel,
} from './relay-forwarding.js';
import { RELAY_DIR_PREFIX, removeStaleRelays, resolveHost } from './relay-helpers.js';
import type { RelayPolicy } from './relay-policy.js';
import { RelayRefusals, type RelayRefusal } from './relay-refusals.js';

/**
 * The package relay (docs/packages.md): the installer container has no network at all;
 * pip's proxy is a forwarder inside it that carries each connection over a Unix socket in
 * a host folder mounted into the container, to this minimal forward proxy in the bridge.
 * It relays CONNECT tunnels (https) and absolute-URI GET/HEAD requests (http) to the
 * origins the policy allows, dialling addresses it resolved and checked itself, and
 * answers everything else with 403 (logged, and kept for the install's message).
 *
 * One relay serves one install and is closed with it. Security of the socket: like the
 * socket lane, the folder is 0711 and the socket 0666 (the installer's root has no
 * CAP_DAC_OVERRIDE and need not be the bridge's user); a host user who finds it gets the
 * package index, which they could reach anyway.
 */

/** Where the relay's folder appears inside the installer (read-only bind mount). */
export const RELAY_MOUNT = '/run/mcp-bridge-relay';
const SOCKET_NAME = 'relay.sock';
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CONNECTIONS = 64;

export interface PackageRelayOptions {
  policy: RelayPolicy;
  logger: Logger;
  /** Resolves a name to addresses; tests may replace it. */
  lookup?: HostLookup;
  /** Where the relay's folder is made (default: the OS temp folder). */
  parent?: string;
}

export class PackageRelay {
  readonly hostDir: string;
  /** The socket's path inside the installer. */
  readonly containerSocket = `${RELAY_MOUNT}/${SOCKET_NAME}`;
  readonly #server: http.Server;
  readonly #policy: RelayPolicy;
  readonly #lookup: HostLookup;
  readonly #sockets = new Set<Duplex>();
  readonly #refusals: RelayRefusals;
  #closed: Promise<void> | undefined;

  private constructor(hostDir: string, server: http.Server, options: PackageRelayOptions) {
    this.hostDir = hostDir;
    this.#server = server;
    this.#policy = options.policy;
    this.#lookup = options.lookup ?? resolveHost;
    this.#refusals = new RelayRefusals(options.logger);
  }

  /** Makes the folder and listens on the socket; rejects if the host cannot. */
  static async open(options: PackageRelayOptions): Promise<PackageRelay> {
    const parent = options.parent ?? os.tmpdir();
    await removeStaleRelays(parent);
    return listenInNewFolder({
      prefix: path.join(parent, `${RELAY_DIR_PREFIX}${process.pid}-`),
      socketName: SOCKET_NAME,
      build: (hostDir) => {
        const server = http.createServer({
          maxHeaderSize: MAX_HEADER_BYTES,
          headersTimeout: 15_000,
          requestTimeout: 60_000,
        });
        server.maxConnections = MAX_CONNECTIONS;
        const relay = new PackageRelay(hostDir, server, options);
        server.on('connection', (socket: net.Socket) => relay.#track(socket));
        server.on('connect', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
          void relay.#tunnel(request, socket, head);
        });
        server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
          void relay.#forward(request, response);
        });
        server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
          relay.#malformed(error, socket),
        );
        return { server, owner: relay };
      },
      onError: (error) => options.logger.warn({ err: error.message }, 'package relay failed'),
    });
  }

  /** The requests refused so far (the first few), for the install's message. */
  refusals(): RelayRefusal[] {
    return this.#refusals.list();
  }

  /** Stops listening, cuts every connection, removes the folder; idempotent, never throws. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#server.close();
      for (const socket of this.#sockets) socket.destroy();
      this.#sockets.clear();
      await rm(this.hostDir, { recursive: true, force: true }).catch(() => undefined);
    })();
    return this.#closed;
  }

  #track(socket: Duplex): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #decide(request: http.IncomingMessage): ReturnType<typeof decideRelayRequest> {
    return decideRelayRequest(this.#policy, this.#lookup, request.method, request.url);
  }

  async #tunnel(request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.#track(socket);
    const decided = await this.#decide(request);
    if (decided.ok) openTunnel(decided.decision, socket, head, (upstream) => this.#track(upstream));
    else refuseTunnel(socket, this.#refusals.add(request.method, request.url, decided.reason));
  }

  async #forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const decided = await this.#decide(request);
    if (decided.ok && !hasBody(request)) {
      forwardRequest(decided.decision, request, response);
      return;
    }
    const reason = decided.ok ? 'requests with a body are not relayed' : decided.reason;
    refuseRequest(response, this.#refusals.add(request.method, request.url, reason));
  }

  /** Malformed HTTP (Node's parser refused it): answer once, close. */
  #malformed(error: NodeJS.ErrnoException, socket: Duplex): void {
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
    this.#refusals.add(undefined, undefined, `malformed request (${error.code ?? error.message})`);
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  }
}
