import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { parseProxyRequest, type ProxyTarget } from './proxy-request.js';
import {
  fixedLookup,
  forwardedHeaders,
  hostHeader,
  printable,
  RELAY_DIR_PREFIX,
  removeStaleRelays,
  resolveHost,
  withTimeout,
} from './relay-helpers.js';
import { matchOrigin, refuseAddress, type RelayPolicy } from './relay-policy.js';

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
const MAX_REFUSALS_KEPT = 20;
const MAX_REFUSALS_LOGGED = 50;
const LOOKUP_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 15_000;

/** A request the relay did not pass on, and why. */
export interface RelayRefusal {
  request: string;
  reason: string;
}

export type HostLookup = (host: string) => Promise<string[]>;

export interface PackageRelayOptions {
  policy: RelayPolicy;
  logger: Logger;
  /** Resolves a name to addresses; tests may replace it. */
  lookup?: HostLookup;
  /** Where the relay's folder is made (default: the OS temp folder). */
  parent?: string;
}

/** A target that passed every check, with the addresses that may be dialled. */
interface Decision {
  target: ProxyTarget;
  addresses: string[];
}

export class PackageRelay {
  readonly hostDir: string;
  /** The socket's path inside the installer. */
  readonly containerSocket = `${RELAY_MOUNT}/${SOCKET_NAME}`;
  readonly #server: http.Server;
  readonly #policy: RelayPolicy;
  readonly #logger: Logger;
  readonly #lookup: HostLookup;
  readonly #sockets = new Set<Duplex>();
  readonly #refusals: RelayRefusal[] = [];
  #refusedCount = 0;
  #closed: Promise<void> | undefined;

  private constructor(hostDir: string, server: http.Server, options: PackageRelayOptions) {
    this.hostDir = hostDir;
    this.#server = server;
    this.#policy = options.policy;
    this.#logger = options.logger;
    this.#lookup = options.lookup ?? resolveHost;
  }

  /** Makes the folder and listens on the socket; rejects if the host cannot. */
  static async open(options: PackageRelayOptions): Promise<PackageRelay> {
    const parent = options.parent ?? os.tmpdir();
    await removeStaleRelays(parent);
    const hostDir = await mkdtemp(path.join(parent, `${RELAY_DIR_PREFIX}${process.pid}-`));
    try {
      await chmod(hostDir, 0o711);
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
      const socketPath = path.join(hostDir, SOCKET_NAME);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (error) =>
        options.logger.warn({ err: error.message }, 'package relay failed'),
      );
      await chmod(socketPath, 0o666);
      return relay;
    } catch (error: unknown) {
      await rm(hostDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The requests refused so far (the first few), for the install's message. */
  refusals(): RelayRefusal[] {
    return [...this.#refusals];
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

  /** Parses, checks the policy, resolves and checks every address; or says why not. */
  async #decide(
    method: string | undefined,
    url: string | undefined,
  ): Promise<{ ok: true; decision: Decision } | { ok: false; reason: string }> {
    const parsed = parseProxyRequest(method, url);
    if (!parsed.ok) return parsed;
    const target = parsed.target;
    const matched = matchOrigin(this.#policy, target);
    if (!matched.ok) return matched;
    let addresses: string[];
    try {
      addresses = net.isIP(target.host)
        ? [target.host]
        : await withTimeout(this.#lookup(target.host), LOOKUP_TIMEOUT_MS);
    } catch (error: unknown) {
      return { ok: false, reason: `cannot resolve ${target.host}: ${errorMessage(error)}` };
    }
    if (addresses.length === 0) return { ok: false, reason: `${target.host} has no address` };
    for (const address of addresses) {
      const refused = refuseAddress(matched.origin, address);
      if (refused) return { ok: false, reason: refused };
    }
    return { ok: true, decision: { target, addresses } };
  }

  #refused(method: string | undefined, url: string | undefined, reason: string): string {
    const request = printable(`${method ?? '?'} ${url ?? ''}`);
    this.#refusedCount += 1;
    if (this.#refusals.length < MAX_REFUSALS_KEPT) this.#refusals.push({ request, reason });
    // Logged, but boundedly: code in the installer (an sdist's build) could loop.
    if (this.#refusedCount <= MAX_REFUSALS_LOGGED) {
      this.#logger.warn({ request, reason }, 'package relay refused a request');
    } else if (this.#refusedCount === MAX_REFUSALS_LOGGED + 1) {
      this.#logger.warn('package relay: further refusals of this install are not logged');
    }
    return `The bridge's package relay refused ${request}: ${reason}\n`;
  }

  async #tunnel(request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.#track(socket);
    const decided = await this.#decide(request.method, request.url);
    if (!decided.ok) {
      const body = this.#refused(request.method, request.url, decided.reason);
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const { target, addresses } = decided.decision;
    const upstream = net.connect({
      host: target.host,
      port: target.port,
      lookup: fixedLookup(addresses),
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.#track(upstream);
    let connected = false;
    upstream.once('timeout', () => upstream.destroy(new Error('connect timed out')));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.once('error', (error) => {
      if (!connected && !socket.destroyed) {
        socket.end(
          `HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n${printable(errorMessage(error))}\n`,
        );
      }
    });
    upstream.once('close', () => socket.destroy());
    socket.once('close', () => upstream.destroy());
  }

  async #forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const decided = await this.#decide(request.method, request.url);
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (!decided.ok || hasBody) {
      const reason = decided.ok ? 'requests with a body are not relayed' : decided.reason;
      const body = this.#refused(request.method, request.url, reason);
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      response.end(body);
      return;
    }
    const { target, addresses } = decided.decision;
    const upstream = http.request({
      host: target.host,
      port: target.port,
      method: request.method,
      path: target.path,
      headers: { ...forwardedHeaders(request.headers), host: hostHeader(target) },
      lookup: fixedLookup(addresses),
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.once('timeout', () =>
      upstream.destroy(new Error('the origin did not answer in time')),
    );
    upstream.once('response', (answer) => {
      upstream.setTimeout(0);
      response.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
      answer.pipe(response);
    });
    upstream.once('error', (error) => {
      if (response.headersSent) response.destroy();
      else
        response.writeHead(502, { 'content-type': 'text/plain' }).end(`${errorMessage(error)}\n`);
    });
    response.once('close', () => upstream.destroy());
    upstream.end();
  }

  /** Malformed HTTP (Node's parser refused it): answer once, close. */
  #malformed(error: NodeJS.ErrnoException, socket: Duplex): void {
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
    this.#refused(undefined, undefined, `malformed request (${error.code ?? error.message})`);
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  }
}
