import net from 'node:net';

/**
 * What the package relay (package-relay.ts) is asked for, read from the request line that
 * Node's HTTP parser hands it: a CONNECT tunnel to `host:port` (pip's https requests) or
 * an absolute-URI GET/HEAD of an `http://` URL (pip's plain-http requests). Nothing else
 * is a proxy request. The host is normalised the way a URL parser does it (lower case,
 * IPv4 in dotted decimal whatever the spelling, IPv6 without brackets), so the policy
 * judges the address that will really be dialled.
 */
export interface ProxyTarget {
  /** `https`: a CONNECT tunnel; `http`: a forwarded GET or HEAD. */
  scheme: 'https' | 'http';
  /** Lower-case host name, dotted-decimal IPv4, or IPv6 without brackets. */
  host: string;
  port: number;
  /** For `http`: the path and query to ask the origin for. */
  path?: string;
}

export type ParsedProxyRequest = { ok: true; target: ProxyTarget } | { ok: false; reason: string };

/** Longer request targets are refused; pip's are far shorter. */
export const MAX_TARGET_LENGTH = 4096;

const AUTHORITY = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

function refuse(reason: string): ParsedProxyRequest {
  return { ok: false, reason };
}

/** `[::1]` → `::1`; URL hostnames keep the brackets of IPv6 literals. */
function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function validPort(text: string): number | undefined {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65_535 ? port : undefined;
}

/**
 * A CONNECT target in authority form: `host:port` or `[ipv6]:port`, nothing more (no
 * userinfo, no path, no percent-encoding). The port is required.
 */
export function parseConnectTarget(authority: string): ParsedProxyRequest {
  if (authority.length > 300) return refuse('the CONNECT target is too long');
  const match = AUTHORITY.exec(authority);
  if (!match) return refuse('the CONNECT target is not host:port');
  const [, ipv6, name, portText = ''] = match;
  const port = validPort(portText);
  if (port === undefined) return refuse('the CONNECT port is not between 1 and 65535');
  if (ipv6 !== undefined && !net.isIPv6(ipv6)) {
    return refuse('the CONNECT target is not a valid IPv6 address');
  }
  let url: URL;
  try {
    url = new URL(`https://${ipv6 !== undefined ? `[${ipv6}]` : (name ?? '')}/`);
  } catch {
    return refuse('the CONNECT target is not a valid host name');
  }
  const host = bareHost(url.hostname);
  if (host === '') return refuse('the CONNECT target has no host');
  return { ok: true, target: { scheme: 'https', host, port } };
}

/**
 * An absolute-URI request target (`http://host[:port]/path`). Refused: other schemes
 * (https goes through CONNECT), userinfo (`http://index@169.254.169.254/` names the second
 * host, not the first), and anything the URL parser does not take.
 */
export function parseAbsoluteTarget(target: string): ParsedProxyRequest {
  if (!/^http:\/\//i.test(target)) {
    return refuse('only absolute http:// URLs (and CONNECT for https) are relayed');
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return refuse('the request URL does not parse');
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('URLs with user information (user@host) are not relayed');
  }
  const host = bareHost(url.hostname);
  if (host === '') return refuse('the request URL has no host');
  const port = url.port === '' ? 80 : validPort(url.port);
  if (port === undefined) return refuse('the request port is not between 1 and 65535');
  return {
    ok: true,
    target: { scheme: 'http', host, port, path: `${url.pathname}${url.search}` },
  };
}

/** Reads a request line (method and request target) as the relay sees it. */
export function parseProxyRequest(
  method: string | undefined,
  target: string | undefined,
): ParsedProxyRequest {
  if (target === undefined || target === '') return refuse('the request has no target');
  if (target.length > MAX_TARGET_LENGTH) {
    return refuse(`the request target is longer than ${MAX_TARGET_LENGTH} characters`);
  }
  if (method === 'CONNECT') return parseConnectTarget(target);
  if (method === 'GET' || method === 'HEAD') return parseAbsoluteTarget(target);
  return refuse(
    `the method ${String(method).slice(0, 20)} is not relayed (only CONNECT, GET, HEAD)`,
  );
}

/** The target as `host:port`, for messages and logs (IPv6 in brackets). */
export function describeTarget(target: Pick<ProxyTarget, 'host' | 'port'>): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}
