import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../errors.js';
import type { RelayDecision } from './relay-decision.js';
import { fixedLookup, forwardedHeaders, hostHeader, printable } from './relay-helpers.js';

/**
 * Carrying one allowed request to its origin: a CONNECT tunnel (https) or an
 * absolute-URI GET/HEAD (http). Both dial only the addresses the decision checked.
 */

const CONNECT_TIMEOUT_MS = 15_000;

/** Answers a refused CONNECT with 403 and `body`, then closes. */
export function refuseTunnel(socket: Duplex, body: string): void {
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Connects to the origin and pipes the tunnel both ways; `track` owns the new socket. */
export function openTunnel(
  { target, addresses }: RelayDecision,
  socket: Duplex,
  head: Buffer,
  track: (socket: Duplex) => void,
): void {
  const upstream = net.connect({
    host: target.host,
    port: target.port,
    lookup: fixedLookup(addresses),
    timeout: CONNECT_TIMEOUT_MS,
  });
  track(upstream);
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

/** Whether a plain-http request carries a body (those are not relayed). */
export function hasBody(request: http.IncomingMessage): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0
  );
}

/** Answers a refused plain-http request with 403 and `body`. */
export function refuseRequest(response: http.ServerResponse, body: string): void {
  response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  response.end(body);
}

/** Sends the request to the origin with end-to-end headers only, and streams the answer. */
export function forwardRequest(
  { target, addresses }: RelayDecision,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): void {
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
  upstream.once('timeout', () => upstream.destroy(new Error('the origin did not answer in time')));
  upstream.once('response', (answer) => {
    upstream.setTimeout(0);
    response.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
    answer.pipe(response);
  });
  upstream.once('error', (error) => {
    if (response.headersSent) response.destroy();
    else response.writeHead(502, { 'content-type': 'text/plain' }).end(`${errorMessage(error)}\n`);
  });
  response.once('close', () => upstream.destroy());
  upstream.end();
}
