import net from 'node:net';
import { describeTarget, type ProxyTarget } from './proxy-request.js';

/**
 * Where the package relay lets pip go (docs/packages.md, "What the installer can reach"):
 * the index's origin, and the hosts the index serves files from — nothing else. Names are
 * resolved on the host by the relay itself, and the address it dials is judged too:
 * link-local and cloud-metadata addresses never, loopback and private addresses only for
 * the index the operator configured (a devpi on localhost, a mirror on the LAN).
 */

/** One scheme, host and port pip may reach. */
export interface RelayOrigin {
  scheme: 'https' | 'http';
  /** As ProxyTarget.host: lower case, IPv6 without brackets. */
  host: string;
  port: number;
  /** `index`: the configured index (may be loopback or private); `files`: file hosts. */
  role: 'index' | 'files';
}

export interface RelayPolicy {
  origins: RelayOrigin[];
}

/**
 * The file hosts an index is known to link to, by the index's host name. PyPI's simple
 * pages link to files.pythonhosted.org; other indexes (devpi, Artifactory, Nexus, a
 * static tree) serve files from themselves. MCP_BRIDGE_PACKAGES_FILE_HOSTS replaces this.
 */
const KNOWN_FILE_HOSTS: Readonly<Record<string, readonly string[]>> = {
  'pypi.org': ['files.pythonhosted.org'],
};

/** The file hosts to allow when MCP_BRIDGE_PACKAGES_FILE_HOSTS is not set. */
export function defaultFileHosts(indexUrl: string): string[] {
  try {
    return [...(KNOWN_FILE_HOSTS[new URL(indexUrl).hostname.toLowerCase()] ?? [])];
  } catch {
    return [];
  }
}

function originOf(text: string, role: RelayOrigin['role']): RelayOrigin {
  const url = new URL(text.includes('://') ? text : `https://${text}`);
  const scheme =
    url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
  if (!scheme) throw new Error(`'${text}' is neither http:// nor https://`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port);
  return { scheme, host, port, role };
}

/**
 * The policy for one index and its file hosts (`host`, `host:port`, or a URL whose
 * scheme, host and port count; a bare host means https on port 443). Throws on an entry
 * that does not parse (the configuration is checked at startup with the same function).
 */
export function relayPolicy(indexUrl: string, fileHosts: readonly string[]): RelayPolicy {
  return {
    origins: [originOf(indexUrl, 'index'), ...fileHosts.map((entry) => originOf(entry, 'files'))],
  };
}

/** The origin that allows `target`, or why none does. */
export function matchOrigin(
  policy: RelayPolicy,
  target: ProxyTarget,
): { ok: true; origin: RelayOrigin } | { ok: false; reason: string } {
  const origin = policy.origins.find(
    (candidate) =>
      candidate.scheme === target.scheme &&
      candidate.host === target.host &&
      candidate.port === target.port,
  );
  if (origin) return { ok: true, origin };
  return {
    ok: false,
    reason: `${target.scheme}://${describeTarget(target)} is neither the package index nor one of its file hosts (MCP_BRIDGE_PACKAGES_FILE_HOSTS)`,
  };
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

function blockList(ipv4: [string, number][], ipv6: [string, number][]): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix] of ipv4) list.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of ipv6) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

/**
 * Checked in this order (the first match wins). net.BlockList also matches IPv4-mapped
 * IPv6 addresses (::ffff:a.b.c.d) against the IPv4 ranges.
 */
const CLASSES: [AddressClass, net.BlockList][] = [
  [
    'metadata',
    blockList(
      [
        ['169.254.169.254', 32], // AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean…
        ['169.254.170.2', 32], // AWS ECS task metadata
        ['169.254.170.23', 32], // AWS EKS pod identity
        ['100.100.100.200', 32], // Alibaba Cloud
        ['168.63.129.16', 32], // Azure WireServer (a public address)
      ],
      [
        ['fd00:ec2::254', 128], // AWS IMDS over IPv6
        ['fd00:ec2::23', 128],
        ['fd20:ce::254', 128], // GCP metadata over IPv6
      ],
    ),
  ],
  ['link-local', blockList([['169.254.0.0', 16]], [['fe80::', 10]])],
  ['unspecified', blockList([['0.0.0.0', 8]], [['::', 128]])],
  ['loopback', blockList([['127.0.0.0', 8]], [['::1', 128]])],
  [
    'private',
    blockList(
      [
        ['10.0.0.0', 8],
        ['172.16.0.0', 12],
        ['192.168.0.0', 16],
        ['100.64.0.0', 10], // carrier-grade NAT, also used inside clouds
        ['198.18.0.0', 15], // benchmarking, sometimes routed internally
      ],
      [
        ['fc00::', 7], // unique local
        ['fec0::', 10], // site-local (deprecated)
      ],
    ),
  ],
  ['multicast', blockList([['224.0.0.0', 4]], [['ff00::', 8]])],
  [
    'reserved',
    blockList(
      [
        ['240.0.0.0', 4], // reserved, and the broadcast address
        ['192.0.0.0', 24], // protocol assignments
        ['192.0.2.0', 24], // documentation
        ['198.51.100.0', 24],
        ['203.0.113.0', 24],
      ],
      [
        ['::', 96], // IPv4-compatible (deprecated)
        ['100::', 64], // discard
        ['2001:db8::', 32], // documentation
      ],
    ),
  ],
];

const NAT64 = blockList([], [['64:ff9b::', 96]]);
const SIX_TO_FOUR = blockList([], [['2002::', 16]]);

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(ipv6: string): string | undefined {
  const groups = expandIpv6(ipv6);
  if (!groups) return undefined;
  const toIpv4 = (high = 0, low = 0) => [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  if (NAT64.check(ipv6, 'ipv6')) return toIpv4(groups[6], groups[7]);
  if (SIX_TO_FOUR.check(ipv6, 'ipv6')) return toIpv4(groups[1], groups[2]);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 is converted). */
function expandIpv6(address: string): number[] | undefined {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  const missing = 8 - first.length - last.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...first, ...Array<number>(missing).fill(0), ...last];
}

/** What kind of address `ip` is; anything that is not an IP address is `reserved`. */
export function classifyAddress(address: string): AddressClass {
  // A zone (fe80::1%eth0) names an interface, not an address.
  const ip = address.split('%', 1)[0] ?? '';
  const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return 'reserved';
  if (family === 'ipv6') {
    const inner = embeddedIpv4(ip);
    if (inner !== undefined) return classifyAddress(inner);
  }
  for (const [name, list] of CLASSES) if (list.check(ip, family)) return name;
  return 'public';
}

/** Why the relay must not dial `ip` for `origin`, or undefined when it may. */
export function refuseAddress(origin: RelayOrigin, ip: string): string | undefined {
  const kind = classifyAddress(ip);
  if (kind === 'public') return undefined;
  if (kind === 'loopback' || kind === 'private') {
    // The operator chose the index; a file host on such an address is something an
    // attacker could arrange (DNS), so only the index may be there.
    return origin.role === 'index'
      ? undefined
      : `${origin.host} resolves to ${ip}, a ${kind} address; only the configured index may be on one`;
  }
  return `${origin.host} resolves to ${ip}, a ${kind} address, which the relay never dials`;
}
