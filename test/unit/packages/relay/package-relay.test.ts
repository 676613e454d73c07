import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PackageRelay } from '../../../../src/packages/relay/package-relay.js';
import { relayPolicy } from '../../../../src/packages/relay/relay-policy.js';

/**
 * The package relay's server (src/packages/relay/package-relay.ts) in this process, over
 * its real Unix socket: what it relays, what it refuses, and malformed requests. Names
 * are resolved by a fake lookup so that "a name resolving to link-local" needs no DNS.
 */

let parent: string;
let origin: http.Server;
let originPort: number;
let echo: net.Server;
let echoPort: number;
const seenByOrigin: { url: string; headers: http.IncomingHttpHeaders }[] = [];
const relays: PackageRelay[] = [];

const names: Record<string, string[]> = {
  'files.test': ['93.184.216.34'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'inside.test': ['10.0.0.7'],
};

async function openRelay(indexUrl: string, fileHosts: string[] = []): Promise<PackageRelay> {
  const relay = await PackageRelay.open({
    policy: relayPolicy(indexUrl, fileHosts),
    logger: pino({ level: 'silent' }),
    lookup: (host) =>
      names[host] ? Promise.resolve(names[host]) : Promise.reject(new Error('ENOTFOUND')),
    parent,
  });
  relays.push(relay);
  return relay;
}

function socketOf(relay: PackageRelay): string {
  return path.join(relay.hostDir, 'relay.sock');
}

/** Sends raw bytes to the relay and returns everything it answers until it closes. */
function raw(relay: PackageRelay, request: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(socketOf(relay));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (/\r\n\r\n/.test(answer) && !/^HTTP\/1\.1 200/.test(answer)) socket.end();
    });
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.write(request);
  });
}

function get(
  relay: PackageRelay,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath: socketOf(relay), method: 'GET', path: url, headers },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

beforeAll(async () => {
  parent = mkdtempSync(path.join(os.tmpdir(), 'mcp-relay-test-'));
  origin = http.createServer((request, response) => {
    seenByOrigin.push({ url: request.url ?? '', headers: request.headers });
    response.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'yes' });
    response.end('index page');
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as net.AddressInfo).port;
  echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
});
afterAll(async () => {
  origin.closeAllConnections();
  await new Promise((resolve) => origin.close(resolve));
  await new Promise((resolve) => echo.close(resolve));
  rmSync(parent, { recursive: true, force: true });
});

describe('PackageRelay', () => {
  it('listens on a socket others may use, in a folder they may only enter; close removes it', async () => {
    const relay = await openRelay(`http://127.0.0.1:${originPort}/simple/`);
    expect(statSync(relay.hostDir).mode & 0o777).toBe(0o711);
    expect(statSync(socketOf(relay)).mode & 0o777).toBe(0o666);
    expect(relay.containerSocket).toBe('/run/mcp-bridge-relay/relay.sock');
    await relay.close();
    expect(existsSync(relay.hostDir)).toBe(false);
  });

  it('relays GETs to the index, with end-to-end headers only', async () => {
    const relay = await openRelay(`http://127.0.0.1:${originPort}/simple/`);
    const answer = await get(relay, `http://127.0.0.1:${originPort}/simple/tinypkg/?x=1`, {
      'proxy-authorization': 'Basic c2VjcmV0',
      'user-agent': 'pip/23',
    });
    expect(answer).toEqual({ status: 200, body: 'index page' });
    const seen = seenByOrigin.at(-1);
    expect(seen?.url).toBe('/simple/tinypkg/?x=1');
    expect(seen?.headers.host).toBe(`127.0.0.1:${originPort}`);
    expect(seen?.headers['user-agent']).toBe('pip/23');
    expect(seen?.headers['proxy-authorization']).toBeUndefined();
    expect(relay.refusals()).toEqual([]);
  });

  it('opens CONNECT tunnels to an https index', async () => {
    const relay = await openRelay(`https://127.0.0.1:${echoPort}/simple/`);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(socketOf(relay));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\r\n\r\n') && !text.includes('ping')) socket.write('ping');
        if (text.endsWith('ping')) socket.end();
      });
      socket.on('close', () => resolve(text));
      socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    expect(answer).toBe('HTTP/1.1 200 Connection Established\r\n\r\nping');
  });

  it.each([
    [
      'another port on the host',
      (p: number) => `GET http://127.0.0.1:${p + 1}/ HTTP/1.1`,
      /neither the package index/,
    ],
    [
      'a CONNECT to the http index',
      (p: number) => `CONNECT 127.0.0.1:${p} HTTP/1.1`,
      /neither the package index/,
    ],
    [
      'userinfo naming the metadata address',
      (p: number) => `GET http://127.0.0.1:${p}@169.254.169.254/ HTTP/1.1`,
      /user information/,
    ],
    [
      'the metadata address',
      () => 'CONNECT 169.254.169.254:80 HTTP/1.1',
      /neither the package index/,
    ],
    [
      'a file host resolving to the metadata address',
      () => 'GET http://metadata.test/x.whl HTTP/1.1',
      /169\.254\.169\.254, a metadata address/,
    ],
    [
      'a file host resolving to public and loopback',
      () => 'GET http://mixed.test/x.whl HTTP/1.1',
      /127\.0\.0\.1, a loopback address/,
    ],
    [
      'a file host on a private address',
      () => 'GET http://inside.test/x.whl HTTP/1.1',
      /10\.0\.0\.7, a private address/,
    ],
    [
      'a name that does not resolve',
      () => 'GET http://nowhere.test/ HTTP/1.1',
      /neither the package index/,
    ],
    ['an origin-form request', () => 'GET /simple/ HTTP/1.1', /only absolute http/],
    ['a POST', (p: number) => `POST http://127.0.0.1:${p}/simple/ HTTP/1.1`, /POST is not relayed/],
    [
      'a GET with a body',
      (p: number) =>
        `GET http://127.0.0.1:${p}/simple/ HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody`,
      /with a body/,
    ],
  ])('refuses %s with 403, and records why', async (_what, line, why) => {
    const relay = await openRelay(`http://127.0.0.1:${originPort}/simple/`, [
      'http://metadata.test',
      'http://mixed.test',
      'http://inside.test',
    ]);
    const before = seenByOrigin.length;
    const request = line(originPort);
    const answer = await raw(
      relay,
      request.includes('\r\n\r\n') ? request : `${request}\r\nHost: x\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer).toMatch(why);
    expect(relay.refusals()).toHaveLength(1);
    expect(relay.refusals()[0]?.reason).toMatch(why);
    expect(seenByOrigin.length).toBe(before);
  });

  it('answers malformed or oversized requests with 400 or 431 and stays usable', async () => {
    const relay = await openRelay(`http://127.0.0.1:${originPort}/simple/`);
    const huge = await raw(
      relay,
      `GET http://127.0.0.1:${originPort}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw(relay, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(relay, Buffer.from([0, 1, 2, 3, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400 /);
    const answer = await get(relay, `http://127.0.0.1:${originPort}/simple/`);
    expect(answer.status).toBe(200);
  });

  it('cuts open tunnels when closed', async () => {
    const relay = await openRelay(`https://127.0.0.1:${echoPort}/simple/`);
    const closed = new Promise<void>((resolve) => {
      const socket = net.connect(socketOf(relay));
      socket.on('data', () => void relay.close());
      socket.on('close', () => resolve());
      socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    await closed;
  });
});
