import dns from 'node:dns';
import { readdir, rm } from 'node:fs/promises';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { processIsAlive } from '../../util/process-alive.js';
import type { ProxyTarget } from './proxy-request.js';

/** Small pieces of the package relay (package-relay.ts): headers, lookups, clean-up. */

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** The Host header for a relayed http request (the default port left out). */
export function hostHeader(target: ProxyTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return target.port === 80 ? host : `${host}:${target.port}`;
}

/** End-to-end headers only: hop-by-hop ones and those the Connection header names go. */
export function forwardedHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}

/** A `lookup` for net/http that answers with the addresses already checked, whatever the name. */
export function fixedLookup(addresses: string[]): net.LookupFunction {
  const entries = addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
  return ((_host: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    const first = entries[0];
    if (options.all) callback(null, entries);
    else callback(null, first?.address, first?.family);
  }) as unknown as net.LookupFunction;
}

export async function resolveHost(host: string): Promise<string[]> {
  const found = await dns.promises.lookup(host, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** For messages and logs: control characters out, at most 200 characters. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

const swept = new Set<string>();
export const RELAY_DIR_PREFIX = 'mcp-bridge-relay-';

/** Relay folders of bridges that died without cleaning up (SIGKILL); once per parent folder. */
export async function removeStaleRelays(parent: string): Promise<void> {
  if (swept.has(parent)) return;
  swept.add(parent);
  const entries = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      const owner = new RegExp(`^${RELAY_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
      if (owner && !processIsAlive(Number(owner)))
        await rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}
