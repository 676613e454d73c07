import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { LABELS } from '../../src/container/labels.js';
import { errorMessage } from '../../src/errors.js';
import { INSTALLER_ROLE } from '../../src/packages/installer-container.js';

/**
 * Fixtures for package-install tests (test/e2e/packages.test.ts, test/security/): wheels
 * built here, a PEP 503 index on loopback, and a proxy in front of the engine's API that
 * records the installer containers the bridge creates. No index on the internet is needed.
 */

/** What goes into one wheel entry. */
export type WheelContent =
  | string
  /** Incompressible bytes. */
  | { random: number }
  /** Zeros, deflated: a tiny entry that expands a lot (a zip bomb). */
  | { zeros: number }
  /** A symlink entry pointing at `target`. */
  | { symlink: string };

export interface WheelSpec {
  name: string;
  version: string;
  /** Archive path → content; the dist-info (METADATA, WHEEL, RECORD) is added. */
  files: Record<string, WheelContent>;
  requires?: string[];
}

const WHEEL_WRITER = String.raw`
import base64, hashlib, json, os, sys, zipfile
folder, specs = sys.argv[1], json.loads(sys.argv[2])
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
for spec in specs:
    name, version = spec["name"], spec["version"]
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in spec.get("requires", []))
    entries = []  # (ZipInfo, bytes)
    def add(path, data, mode=0o644, compress=zipfile.ZIP_STORED):
        zinfo = zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0))
        zinfo.external_attr = mode << 16
        zinfo.compress_type = compress
        entries.append((zinfo, data))
    for path, content in spec["files"].items():
        if isinstance(content, str):
            add(path, content.encode())
        elif "random" in content:
            add(path, os.urandom(content["random"]))
        elif "zeros" in content:
            add(path, bytes(content["zeros"]), compress=zipfile.ZIP_DEFLATED)
        else:
            add(path, content["symlink"].encode(), mode=0o120777)
    add(f"{info}/METADATA", metadata.encode())
    add(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = [f"{z.filename},sha256={digest(d)},{len(d)}" for z, d in entries]
    add(f"{info}/RECORD", ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode())
    target = f"{folder}/{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as wheel:
        for zinfo, data in entries:
            wheel.writestr(zinfo, data)
    print(target)
`;

/** Writes wheels into `folder` (one Python process for all) and returns their paths. */
export function writeWheels(folder: string, specs: WheelSpec[]): string[] {
  return execFileSync('python3', ['-c', WHEEL_WRITER, folder, JSON.stringify(specs)], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n');
}

/** Writes one wheel into `folder` and returns its path. */
export function writeWheel(folder: string, spec: WheelSpec): string {
  return writeWheels(folder, [spec])[0] ?? '';
}

/**
 * A minimal pure-Python wheel: `<name>/__init__.py` with `VALUE = <value>`, plus
 * `blobBytes` of incompressible data when asked.
 */
export function buildWheel(
  name: string,
  version: string,
  value: number,
  folder: string,
  blobBytes = 0,
): string {
  return writeWheel(folder, {
    name,
    version,
    files: {
      [`${name}/__init__.py`]: `VALUE = ${value}\n`,
      ...(blobBytes > 0 ? { [`${name}/blob.bin`]: { random: blobBytes } } : {}),
    },
  });
}

export interface LoopbackIndex {
  /** The index URL, e.g. http://127.0.0.1:1234/simple/. */
  url: string;
  port: number;
  /** Request targets seen, in order. */
  requests: string[];
  close: () => Promise<void>;
}

/**
 * A PEP 503 "simple" index on 127.0.0.1 serving the wheels given; requests for the
 * projects in `hang` are never answered; `links` adds links (any URL) to a project's page.
 */
export async function loopbackIndex(
  wheels: string[],
  options: { hang?: string[]; links?: Record<string, string[]> } = {},
): Promise<LoopbackIndex> {
  const byName = new Map(wheels.map((file) => [path.basename(file), file]));
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    requests.push(url);
    const project = /^\/simple\/([^/]+)\/$/.exec(url)?.[1];
    if (project && options.hang?.includes(project)) return;
    if (project) {
      const links = [...byName.keys()]
        .filter((file) => file.startsWith(`${project.replace(/-/g, '_')}-`))
        .map((file) => `<a href="/files/${file}">${file}</a>`);
      for (const link of options.links?.[project] ?? []) {
        links.push(`<a href="${link}">${path.basename(new URL(link).pathname)}</a>`);
      }
      response.writeHead(links.length > 0 ? 200 : 404, { 'content-type': 'text/html' });
      response.end(`<!DOCTYPE html><html><body>${links.join('\n')}</body></html>`);
      return;
    }
    const file = byName.get(url.replace(/^\/files\//, ''));
    if (url.startsWith('/files/') && file) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(readFileSync(file));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One installer container the bridge asked the engine to create. */
export interface InstallerCreate {
  /** HostConfig.NetworkMode as sent; undefined: the engine's default network. */
  networkMode: string | undefined;
  mounts: { Type?: string; Source?: string; Target?: string; ReadOnly?: boolean }[];
  cmd: string[];
}

export interface EngineProxy {
  dockerHost: string;
  /** The installer containers created through this proxy so far. */
  installerCreates: () => InstallerCreate[];
  close: () => Promise<void>;
}

interface CreateBody {
  Labels?: Record<string, string>;
  Cmd?: string[];
  HostConfig?: { NetworkMode?: string; Mounts?: InstallerCreate['mounts'] };
}

/**
 * Reads the HTTP requests a client sends on one connection and hands each container
 * create body to `onCreate`. Stops at the first request that is not a plain request
 * with a Content-Length body (an attach upgrade): what follows is not HTTP.
 */
function createRequestReader(onCreate: (body: CreateBody) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  let done = false;
  return (chunk) => {
    if (done) return;
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      if (/^transfer-encoding:|^upgrade:/im.test(head)) {
        done = true;
        return;
      }
      const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.subarray(end + 4, end + 4 + length);
      buffer = buffer.subarray(end + 4 + length);
      if (/^POST \S*\/containers\/create/.test(head)) {
        try {
          onCreate(JSON.parse(body.toString('utf8')) as CreateBody);
        } catch {
          // not JSON: not a create we need to see
        }
      }
    }
  };
}

/**
 * A byte-for-byte proxy in front of the engine's API socket that records the installer
 * containers the bridge asks to create (their create request carries the role label),
 * on either engine, without relying on the engine's event log.
 */
export async function engineProxy(dockerHost: string): Promise<EngineProxy> {
  const target = dockerHost.replace(/^unix:\/\//, '');
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-proxy-'));
  const socketPath = path.join(folder, 'engine.sock');
  const creates: InstallerCreate[] = [];
  const connections = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    connections.add(client).add(upstream);
    const read = createRequestReader((body) => {
      if (body.Labels?.[LABELS.role] !== INSTALLER_ROLE) return;
      creates.push({
        networkMode: body.HostConfig?.NetworkMode,
        mounts: body.HostConfig?.Mounts ?? [],
        cmd: body.Cmd ?? [],
      });
    });
    client.on('data', read);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    dockerHost: `unix://${socketPath}`,
    installerCreates: () => [...creates],
    close: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** An HTTP server on 127.0.0.1 standing for another service on the host; counts requests. */
export async function otherHostService(
  body: Buffer | string = 'secret',
): Promise<{ port: number; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    response.end(body);
  });
  server.on('connection', (socket) => {
    // A raw TCP connection counts too, even if it never sends a request.
    requests.push('connection');
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Removes the volume and everything installed in it; false when it did not exist. */
export async function removePackageVolume(docker: Dockerode, name: string): Promise<boolean> {
  try {
    await docker.getVolume(name).remove({ force: true });
    return true;
  } catch (error: unknown) {
    if (/404|no such volume|not found/i.test(errorMessage(error))) return false;
    throw error;
  }
}
