import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineAddress } from '../../../src/config/env.js';
import type { EngineCandidate } from '../../../src/container/engine-candidates.js';
import { locateEngine } from '../../../src/container/engine-locator.js';
import { EngineAddressError, RuntimeUnavailableError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';

const FAKE_PODMAN = path.resolve(import.meta.dirname, '../../fixtures/fake-podman.mjs');
const logger = createLogger('silent');
const folders: string[] = [];

function binFolder(withPodman: boolean): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'fake-bin-'));
  folders.push(folder);
  if (withPodman) symlinkSync(FAKE_PODMAN, path.join(folder, 'podman'));
  return folder;
}

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** An engine API stand-in on a Unix socket that answers /_ping and counts the pings. */
async function fakeEngine(
  kind: 'podman' | 'docker',
): Promise<{ dockerHost: string; pings: () => number }> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'fake-engine-'));
  folders.push(folder);
  let pings = 0;
  const server = http.createServer((request, response) => {
    if (request.url === '/_ping') pings += 1;
    if (kind === 'podman') response.setHeader('Libpod-Api-Version', '4.3.1');
    else response.setHeader('Server', 'Docker/20.10.24 (linux)');
    response.setHeader('Api-Version', '1.41');
    response.end('OK');
  });
  servers.push(server);
  const socketPath = path.join(folder, 'engine.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { dockerHost: `unix://${socketPath}`, pings: () => pings };
}

const wellKnown = (dockerHost: string): EngineCandidate => ({
  dockerHost,
  source: 'well-known (test)',
  expected: undefined,
});

/** The temp folders a started `podman system service` would have made. */
const podmanServiceFolders = () =>
  readdirSync(os.tmpdir()).filter((name) => name.startsWith('mcp-bridge-podman-'));

// Starting a (fake) `podman system service`: test/integration/podman-service.test.ts.
describe('locateEngine', () => {
  it('explains what to install when there is no engine and no podman', async () => {
    const attempt = locateEngine({ runtime: 'auto', engineAddress: undefined }, logger, {
      candidates: [],
      searchPath: binFolder(false),
    });
    await expect(attempt).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(attempt).rejects.toThrow(/install Podman .*or Docker/s);
  });

  it('does not fall back to podman when Docker was asked for', async () => {
    const attempt = locateEngine({ runtime: 'docker', engineAddress: undefined }, logger, {
      candidates: [],
      searchPath: binFolder(true),
    });
    await expect(attempt).rejects.toThrow(/needs Docker/);
  });

  it('without an address set, finds an engine at a well-known place (unchanged)', async () => {
    const docker = await fakeEngine('docker');
    const engine = await locateEngine({ runtime: 'auto', engineAddress: undefined }, logger, {
      candidates: [wellKnown('unix:///nonexistent/podman.sock'), wellKnown(docker.dockerHost)],
      searchPath: binFolder(false),
    });
    expect(engine).toMatchObject({
      kind: 'docker',
      version: '20.10.24',
      source: 'well-known (test)',
    });
    expect(docker.pings()).toBe(1);
  });
});

describe('locateEngine with an address the user set', () => {
  const nowhere = (variable: EngineAddress['variable']): EngineAddress => ({
    variable,
    address: 'unix:///nonexistent/engine.sock',
  });

  it.each(['DOCKER_HOST', 'CONTAINER_HOST'] as const)(
    'uses %s alone when it answers, never a well-known socket',
    async (variable) => {
      const chosen = await fakeEngine('podman');
      const other = await fakeEngine('docker');
      const engine = await locateEngine(
        { runtime: 'auto', engineAddress: { variable, address: chosen.dockerHost } },
        logger,
        { candidates: [wellKnown(other.dockerHost)], searchPath: binFolder(true) },
      );
      expect(engine).toMatchObject({
        kind: 'podman',
        dockerHost: chosen.dockerHost,
        source: variable,
      });
      expect(engine.ownedService).toBeUndefined();
      expect(other.pings()).toBe(0);
    },
  );

  it.each(['DOCKER_HOST', 'CONTAINER_HOST'] as const)(
    'fails naming %s and its address when nothing answers there, trying nothing else',
    async (variable) => {
      const other = await fakeEngine('docker');
      const servicesBefore = podmanServiceFolders();
      const attempt = locateEngine({ runtime: 'auto', engineAddress: nowhere(variable) }, logger, {
        candidates: [wellKnown(other.dockerHost)],
        searchPath: binFolder(true), // a podman that could be started: it must not be
      });
      const error = (await attempt.catch((caught: unknown) => caught)) as EngineAddressError;
      expect(error).toBeInstanceOf(EngineAddressError);
      expect(error).toMatchObject({
        code: 'engine_address_unreachable',
        variable,
        address: 'unix:///nonexistent/engine.sock',
      });
      expect(error.message).toContain(
        `No container engine answers at ${variable}=unix:///nonexistent/engine.sock: there is no socket at /nonexistent/engine.sock.`,
      );
      expect(error.message).toMatch(new RegExp(`unset ${variable}`));
      expect(other.pings()).toBe(0);
      expect(podmanServiceFolders()).toEqual(servicesBefore);
    },
  );

  it('says why when the address is a file that is no engine, or a scheme it cannot use', async () => {
    const folder = binFolder(false);
    const notASocket = path.join(folder, 'engine.sock');
    writeFileSync(notASocket, '');
    const located = (address: string) =>
      locateEngine(
        { runtime: 'auto', engineAddress: { variable: 'DOCKER_HOST', address } },
        logger,
        {
          candidates: [],
          searchPath: folder,
        },
      );
    await expect(located(`unix://${notASocket}`)).rejects.toThrow(
      new RegExp(`DOCKER_HOST=unix://${notASocket}: connect (ENOTSOCK|ECONNREFUSED)`),
    );
    await expect(located('ssh://me@build-box')).rejects.toThrow(
      /DOCKER_HOST=ssh:\/\/me@build-box: the bridge supports only unix:\/\/ and tcp:\/\//,
    );
    await expect(located('/var/run/docker.sock')).rejects.toBeInstanceOf(EngineAddressError);
    // A TCP port where nothing listens: refused, not another engine.
    await expect(located('tcp://127.0.0.1:1')).rejects.toThrow(
      /DOCKER_HOST=tcp:\/\/127.0.0.1:1: connect ECONNREFUSED/,
    );
  });

  it('refuses an engine of another kind than MCP_BRIDGE_RUNTIME asks for', async () => {
    const docker = await fakeEngine('docker');
    const podman = await fakeEngine('podman');
    const attempt = locateEngine(
      { runtime: 'podman', engineAddress: { variable: 'DOCKER_HOST', address: docker.dockerHost } },
      logger,
      { candidates: [wellKnown(podman.dockerHost)], searchPath: binFolder(true) },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'engine_address_wrong_engine',
      variable: 'DOCKER_HOST',
      message: expect.stringContaining(
        `The engine at DOCKER_HOST=${docker.dockerHost} is docker 20.10.24, but MCP_BRIDGE_RUNTIME=podman.`,
      ) as string,
    });
    expect(podman.pings()).toBe(0);
  });
});
