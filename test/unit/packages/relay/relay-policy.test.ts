import { describe, expect, it } from 'vitest';
import {
  MAX_TARGET_LENGTH,
  parseProxyRequest,
  type ProxyTarget,
} from '../../../../src/packages/relay/proxy-request.js';
import {
  classifyAddress,
  defaultFileHosts,
  matchOrigin,
  refuseAddress,
  relayPolicy,
} from '../../../../src/packages/relay/relay-policy.js';

/** The package relay's request parsing and policy (src/packages/relay/), with hostile inputs. */

function target(method: string | undefined, url: string | undefined): ProxyTarget {
  const parsed = parseProxyRequest(method, url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.target;
}

function reason(method: string | undefined, url: string | undefined): string {
  const parsed = parseProxyRequest(method, url);
  if (parsed.ok) throw new Error(`accepted: ${JSON.stringify(parsed.target)}`);
  return parsed.reason;
}

describe('parseProxyRequest: what is read', () => {
  it.each([
    ['pypi.org:443', { scheme: 'https', host: 'pypi.org', port: 443 }],
    ['PyPI.ORG:443', { scheme: 'https', host: 'pypi.org', port: 443 }],
    ['[::1]:8443', { scheme: 'https', host: '::1', port: 8443 }],
    ['[::ffff:169.254.169.254]:80', { scheme: 'https', host: '::ffff:a9fe:a9fe', port: 80 }],
    // Other spellings of an IPv4 address become the address they mean.
    ['0xa9.0xfe.0xa9.0xfe:80', { scheme: 'https', host: '169.254.169.254', port: 80 }],
    ['2852039166:80', { scheme: 'https', host: '169.254.169.254', port: 80 }],
    ['0251.0376.0251.0376:80', { scheme: 'https', host: '169.254.169.254', port: 80 }],
    ['127.1:3141', { scheme: 'https', host: '127.0.0.1', port: 3141 }],
  ])('CONNECT %s', (authority, expected) => {
    expect(target('CONNECT', authority)).toEqual(expected);
  });

  it.each([
    [
      'http://127.0.0.1:3141/simple/tinypkg/',
      { scheme: 'http', host: '127.0.0.1', port: 3141, path: '/simple/tinypkg/' },
    ],
    [
      'HTTP://Index.Example/simple/?q=1',
      { scheme: 'http', host: 'index.example', port: 80, path: '/simple/?q=1' },
    ],
    ['http://[::1]:8080/x', { scheme: 'http', host: '::1', port: 8080, path: '/x' }],
    ['http://%31%32%37.0.0.1:80/', { scheme: 'http', host: '127.0.0.1', port: 80, path: '/' }],
  ])('GET %s', (url, expected) => {
    expect(target('GET', url)).toEqual(expected);
    expect(target('HEAD', url)).toEqual(expected);
  });
});

describe('parseProxyRequest: what is refused', () => {
  it.each([
    ['pypi.org', /not host:port/],
    ['pypi.org:', /not host:port/],
    [':443', /not host:port/],
    ['pypi.org:0', /between 1 and 65535/],
    ['pypi.org:65536', /between 1 and 65535/],
    ['pypi.org:99999', /between 1 and 65535/],
    ['pypi.org:443/path', /not host:port/],
    ['user@pypi.org:443', /not host:port/],
    ['index@169.254.169.254:80', /not host:port/],
    ['pypi.org:443 extra', /not host:port/],
    ['pypi%2eorg:443', /not host:port/],
    ['::1:443', /not host:port/],
    ['[::1%eth0]:443', /not host:port/],
    ['[1::2::3]:443', /not a valid IPv6/],
    ['[not:an:address]:443', /not host:port/],
    ['[1.2.3.4]:443', /not a valid IPv6/],
    ['http://pypi.org:443', /not host:port/],
    [`${'a'.repeat(400)}:443`, /too long/],
    ['', /no target/],
  ])('CONNECT %s', (authority, why) => {
    expect(reason('CONNECT', authority)).toMatch(why);
  });

  it.each([
    ['/simple/', /only absolute http/],
    ['*', /only absolute http/],
    ['https://pypi.org/simple/', /only absolute http/],
    ['ftp://index.example/', /only absolute http/],
    ['file:///etc/passwd', /only absolute http/],
    ['http://index@169.254.169.254/', /user information/],
    ['http://127.0.0.1:3141@169.254.169.254/', /user information/],
    ['http://user:pass@index.example/', /user information/],
    ['http://:pass@index.example/', /user information/],
    ['http://', /does not parse/],
    ['http://[::1/', /does not parse/],
    ['http://index.example:99999/', /does not parse|between/],
    [`http://index.example/${'a'.repeat(MAX_TARGET_LENGTH)}`, /longer than/],
  ])('GET %s', (url, why) => {
    expect(reason('GET', url)).toMatch(why);
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', undefined])(
    'the method %s',
    (method) => {
      expect(reason(method, 'http://index.example/')).toMatch(/is not relayed/);
    },
  );
});

describe('relayPolicy and matchOrigin', () => {
  const policy = relayPolicy(
    'https://pypi.org/simple',
    defaultFileHosts('https://pypi.org/simple'),
  );

  it('allows the index and the default index’s file host, on their schemes and ports', () => {
    expect(defaultFileHosts('https://pypi.org/simple')).toEqual(['files.pythonhosted.org']);
    expect(defaultFileHosts('https://mirror.example/simple')).toEqual([]);
    expect(matchOrigin(policy, target('CONNECT', 'pypi.org:443'))).toMatchObject({
      ok: true,
      origin: { role: 'index' },
    });
    expect(matchOrigin(policy, target('CONNECT', 'files.pythonhosted.org:443'))).toMatchObject({
      ok: true,
      origin: { role: 'files' },
    });
  });

  it.each([
    ['CONNECT', 'pypi.org:80'],
    ['CONNECT', 'pypi.org:22'],
    ['GET', 'http://pypi.org/simple/'],
    ['CONNECT', 'evil.example:443'],
    ['CONNECT', 'pypi.org.evil.example:443'],
    ['CONNECT', '169.254.169.254:443'],
    ['CONNECT', '127.0.0.1:443'],
  ])('refuses %s %s', (method, url) => {
    const matched = matchOrigin(policy, target(method, url));
    expect(matched.ok).toBe(false);
    if (!matched.ok)
      expect(matched.reason).toMatch(/neither the package index nor one of its file hosts/);
  });

  it('takes file hosts as host, host:port or URL; a loopback index keeps its port', () => {
    const local = relayPolicy('http://127.0.0.1:3141/root/pypi/+simple/', [
      'files.example',
      'cdn.example:8443',
      'http://plain.example:8080',
    ]);
    expect(local.origins).toEqual([
      { scheme: 'http', host: '127.0.0.1', port: 3141, role: 'index' },
      { scheme: 'https', host: 'files.example', port: 443, role: 'files' },
      { scheme: 'https', host: 'cdn.example', port: 8443, role: 'files' },
      { scheme: 'http', host: 'plain.example', port: 8080, role: 'files' },
    ]);
    expect(matchOrigin(local, target('GET', 'http://127.0.0.1:3141/x')).ok).toBe(true);
    expect(matchOrigin(local, target('GET', 'http://127.0.0.1:3142/x')).ok).toBe(false);
    expect(matchOrigin(local, target('CONNECT', '127.0.0.1:3141')).ok).toBe(false);
    expect(() => relayPolicy('ftp://x/', [])).toThrow(/neither http/);
    expect(() => relayPolicy('https://x/', ['not a host'])).toThrow();
  });
});

describe('classifyAddress and refuseAddress', () => {
  it.each([
    ['151.101.0.223', 'public'],
    ['2a04:4e42::223', 'public'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'], // NAT64 of 169.254.169.254
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:169.254.1.1', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::a9fe:a9fe', 'reserved'], // IPv4-compatible
    ['not-an-address', 'reserved'],
  ])('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  const index = { scheme: 'http' as const, host: 'localhost', port: 3141, role: 'index' as const };
  const files = {
    scheme: 'https' as const,
    host: 'files.example',
    port: 443,
    role: 'files' as const,
  };

  it('lets only the index be on loopback or private addresses', () => {
    expect(refuseAddress(index, '127.0.0.1')).toBeUndefined();
    expect(refuseAddress(index, '10.0.0.5')).toBeUndefined();
    expect(refuseAddress(files, '151.101.0.223')).toBeUndefined();
    expect(refuseAddress(files, '127.0.0.1')).toMatch(
      /loopback address; only the configured index/,
    );
    expect(refuseAddress(files, '192.168.0.10')).toMatch(/private address/);
  });

  it('never dials link-local, metadata, unspecified, multicast or reserved addresses', () => {
    for (const ip of ['169.254.169.254', 'fe80::1', '0.0.0.0', '224.0.0.1', '240.0.0.1']) {
      expect(refuseAddress(index, ip)).toMatch(/which the relay never dials/);
      expect(refuseAddress(files, ip)).toMatch(/which the relay never dials/);
    }
  });
});
