import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import { LABELS } from '../../src/container/labels.js';
import { INSTALLER_ROLE } from '../../src/packages/installer-container.js';
import {
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import {
  buildWheel,
  engineProxy,
  loopbackIndex,
  removePackageVolume,
  type EngineProxy,
} from '../support/package-fixtures.js';

/**
 * Package installs (docs/packages.md) through the real MCP client, the built bridge and a
 * real installer container on each engine. No index on the internet is needed: the wheels
 * are built here and served from a folder (no network at all) or from an index on
 * loopback (reached through the bridge's package relay; the installer has no network).
 */

interface InstallAnswer {
  package: string;
  success: boolean;
  message: string;
  installedAt: string;
  version?: string;
  seconds: number;
}

describeEachEngine('package installs', (engine) => {
  const volume = `mcp-bridge-packages-test-${randomBytes(4).toString('hex')}`;
  let docker: Dockerode;
  let wheels: string;
  let proxy: EngineProxy;
  let bridge: BridgeHandle;
  const bridges: BridgeHandle[] = [];

  const start = async (env: Record<string, string>): Promise<BridgeHandle> => {
    const started = await startBridge({
      dockerHost: proxy.dockerHost,
      env: { MCP_BRIDGE_PACKAGES_VOLUME: volume, ...env },
    });
    bridges.push(started);
    return started;
  };

  beforeAll(async () => {
    docker = dockerClient(engine.dockerHost);
    wheels = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-wheels-'));
    buildWheel('tinypkg', '0.1.0', 42, wheels);
    proxy = await engineProxy(engine.dockerHost);
    bridge = await start({
      MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
      MCP_BRIDGE_PACKAGES_ALLOW: 'tinypkg',
    });
  });
  afterAll(async () => {
    for (const started of bridges) await started.close();
    await proxy?.close();
    if (docker) await removePackageVolume(docker, volume);
    if (wheels) rmSync(wheels, { recursive: true, force: true });
  });

  it('installs a wheel while the session holds state; the next call imports it', async () => {
    const before = proxy.installerCreates().length;
    const install = await bridge.run({
      code: [
        'import json, time',
        'kept = "state from before the install"',
        'started = time.perf_counter()',
        'answer = runtime.install_package("tinypkg")',
        'answer["seconds"] = time.perf_counter() - started',
        'print("JSON " + json.dumps(answer))',
      ].join('\n'),
    });
    expect(statusOf(install), describeResult(install)).toBe('success');
    const answer = printedJson<InstallAnswer>(install);
    expect(answer, describeResult(install)).toMatchObject({
      package: 'tinypkg',
      success: true,
      version: '0.1.0',
    });
    expect(answer.message).toMatch(/^Installed tinypkg 0\.1\.0/);
    expect(Date.parse(answer.installedAt)).not.toBeNaN();
    expect(proxy.installerCreates().length - before).toBe(1);
    console.info(`[${engine.name}] install of the test wheel: ${answer.seconds.toFixed(2)} s`);

    const use = await bridge.run({
      code: [
        'import json, tinypkg',
        'print("JSON " + json.dumps({"value": tinypkg.VALUE, "kept": kept,',
        '    "file": tinypkg.__file__, "packages": runtime.list_packages()}))',
      ].join('\n'),
    });
    expect(statusOf(use), describeResult(use)).toBe('success');
    const seen = printedJson<{ value: number; kept: string; file: string; packages: unknown }>(use);
    expect(seen.value).toBe(42);
    expect(seen.kept).toBe('state from before the install');
    expect(seen.file).toMatch(/^\/packages\/[^/]+\/tinypkg\/__init__\.py$/);
    expect(seen.packages).toEqual([{ name: 'tinypkg', version: '0.1.0' }]);

    // Asking again installs nothing: the store already satisfies the request.
    const again = await bridge.run({
      code: 'import json; print("JSON " + json.dumps(runtime.install_package("tinypkg==0.1.0")))',
    });
    expect(printedJson<InstallAnswer>(again)).toMatchObject({ success: true, version: '0.1.0' });
    expect(printedJson<InstallAnswer>(again).message).toMatch(/already installed/);

    // No installer container outlives its install.
    expect(await installersOf(docker, bridge.pid)).toEqual([]);
  });

  it('installs a missing import automatically before the code runs, and says so', async () => {
    buildWheel('autopkg', '0.2.0', 7, wheels);
    // A store of its own, so the other tests' package lists stay exact.
    const autoVolume = `${volume}-auto`;
    const auto = await startBridge({
      dockerHost: proxy.dockerHost,
      env: {
        MCP_BRIDGE_PACKAGES_VOLUME: autoVolume,
        MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
        MCP_BRIDGE_PACKAGES_ALLOW: 'autopkg',
      },
    });
    try {
      const result = await auto.run({ code: 'import autopkg\nprint(autopkg.VALUE)' });
      expect(statusOf(result), describeResult(result)).toBe('success');
      const payload = result.structuredContent as { stdout?: string[]; notices?: string[] };
      expect(payload.stdout).toEqual(['7']);
      expect(payload.notices?.join('\n')).toMatch(/dependencies: Installed: autopkg/);

      // Not allowed by policy: not installed, the reason is given, the import fails as usual.
      const refused = await auto.run({ code: 'import tinypkg_not_listed' });
      const refusedPayload = refused.structuredContent as { stderr?: string[]; notices?: string[] };
      expect(refusedPayload.notices?.join('\n')).toMatch(/Not installed: tinypkg_not_listed/);
      expect(refusedPayload.stderr?.join('\n')).toMatch(/ModuleNotFoundError/);
    } finally {
      // The sandbox holds the volume: close its bridge first.
      await auto.close();
      await removePackageVolume(docker, autoVolume);
    }
  });

  it('keeps the sandbox without network and unable to write the store', async () => {
    const result = await bridge.run({
      code: [
        'import json, os',
        'def attempt(path):',
        '    try:',
        '        with open(path, "w") as f:',
        '            f.write("x")',
        '        return "written"',
        '    except OSError as error:',
        '        return error.errno',
        'site = [p for p in __import__("sys").path if p.startswith("/packages/")][0]',
        'print("JSON " + json.dumps({"net": sorted(os.listdir("/sys/class/net")),',
        '    "store": attempt("/packages/x"), "site": attempt(site + "/evil.py"),',
        '    "module": attempt(site + "/tinypkg/__init__.py")}))',
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const EROFS = 30;
    expect(printedJson(result)).toEqual({ net: ['lo'], store: EROFS, site: EROFS, module: EROFS });
  });

  it('refuses options, URLs, paths, VCS references and unlisted names before any container starts', async () => {
    const before = proxy.installerCreates().length;
    const requests = [
      'git+https://github.com/psf/requests',
      '--index-url=https://evil.example/simple',
      '-e .',
      '../x',
      '/abs/pkg',
      'file:///tmp/x.whl',
      'tinypkg @ https://evil.example/tinypkg.whl',
      '-r requirements.txt',
      'tinypkg; python_version > "3"',
      'tinypkg --extra-index-url https://evil.example',
      'tіnypkg', // Cyrillic і
      'not-on-the-allowlist',
    ];
    const result = await bridge.run({
      code: [
        'import json',
        `requests = json.loads(${JSON.stringify(JSON.stringify(requests))})`,
        'outcomes = []',
        'for name in requests:',
        '    try:',
        '        outcomes.append(["installed?", runtime.install_package(name)])',
        '    except runtime.MCPError as error:',
        '        outcomes.append(["refused", str(error)])',
        'print("JSON " + json.dumps(outcomes))',
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const outcomes = printedJson<[string, string][]>(result);
    expect(outcomes.map(([kind]) => kind)).toEqual(requests.map(() => 'refused'));
    const messages = outcomes.map(([, message]) => message);
    expect(messages[0]).toMatch(/URLs and VCS references/);
    expect(messages[1]).toMatch(/pip options/);
    expect(messages[2]).toMatch(/pip options/);
    expect(messages[3]).toMatch(/paths are not accepted/);
    expect(messages[4]).toMatch(/paths are not accepted/);
    expect(messages[6]).toMatch(/direct references/);
    expect(messages[8]).toMatch(/environment markers/);
    expect(messages[10]).toMatch(/non-ASCII/);
    expect(messages[11]).toMatch(/not on the allowlist/);
    expect(proxy.installerCreates().length).toBe(before);
  });

  it('refuses every install with MCP_BRIDGE_PACKAGES=off; installed packages stay importable', async () => {
    const off = await start({ MCP_BRIDGE_PACKAGES: 'off', MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels });
    const before = proxy.installerCreates().length;
    const result = await off.run({
      code: [
        'import json, tinypkg',
        'try:',
        '    runtime.install_package("numpy")',
        '    refusal = None',
        'except runtime.MCPError as error:',
        '    refusal = str(error)',
        'print("JSON " + json.dumps({"refusal": refusal, "value": tinypkg.VALUE,',
        '    "packages": runtime.list_packages()}))',
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    // A new bridge (a restart) still has what the first one installed.
    expect(printedJson(result)).toEqual({
      refusal: "Cannot install 'numpy': package installs are disabled (MCP_BRIDGE_PACKAGES=off)",
      value: 42,
      packages: [{ name: 'tinypkg', version: '0.1.0' }],
    });
    expect(proxy.installerCreates().length).toBe(before);
  });

  it('installs from an index on loopback through the relay, the installer having no network', async () => {
    const index = await loopbackIndex([buildWheel('tinyidx', '0.3.0', 7, wheels)]);
    try {
      const before = proxy.installerCreates().length;
      const viaIndex = await start({
        MCP_BRIDGE_PACKAGES_INDEX_URL: index.url,
        MCP_BRIDGE_PACKAGES_ALLOW: 'tinyidx',
      });
      const install = await viaIndex.run({
        code: 'import json; print("JSON " + json.dumps(runtime.install_package("tinyidx>=0.2")))',
      });
      expect(printedJson<InstallAnswer>(install), describeResult(install)).toMatchObject({
        success: true,
        version: '0.3.0',
      });
      expect(index.requests).toContain('/simple/tinyidx/');
      const use = await viaIndex.run({ code: 'import tinyidx; print(tinyidx.VALUE)' });
      expect(describeResult(use)).toContain('"stdout":["7"]');
      // No network of its own: pip reached the index through the relay's socket only.
      const made = proxy.installerCreates().slice(before);
      expect(made).toHaveLength(1);
      expect(made[0]?.networkMode).toBe('none');
      expect(made[0]?.mounts).toContainEqual(
        expect.objectContaining({ Target: '/run/mcp-bridge-relay', ReadOnly: true }),
      );
    } finally {
      await index.close();
    }
  });
  it('refuses an install over MCP_BRIDGE_PACKAGES_MAX_MB and stops one past MCP_BRIDGE_PACKAGES_TIMEOUT', async () => {
    const index = await loopbackIndex([buildWheel('bigpkg', '1.0', 1, wheels, 1536 * 1024)], {
      hang: ['slowpkg'],
    });
    try {
      // Two bridges: the size check must not race a 5 s limit on a slow machine.
      const small = await start({
        MCP_BRIDGE_PACKAGES_INDEX_URL: index.url,
        MCP_BRIDGE_PACKAGES_ALLOW: 'bigpkg',
        MCP_BRIDGE_PACKAGES_MAX_MB: '1',
      });
      const bigRun = await small.run({
        code: 'import json; print("JSON " + json.dumps(runtime.install_package("bigpkg")))',
      });
      const big = printedJson<InstallAnswer>(bigRun);
      const limited = await start({
        MCP_BRIDGE_PACKAGES_INDEX_URL: index.url,
        MCP_BRIDGE_PACKAGES_ALLOW: 'slowpkg',
        MCP_BRIDGE_PACKAGES_TIMEOUT: '5',
      });
      const result = await limited.run({
        code: [
          'import json, time',
          'started = time.perf_counter()',
          'slow = runtime.install_package("slowpkg")',
          'slow["seconds"] = time.perf_counter() - started',
          'print("JSON " + json.dumps({"slow": slow,',
          '    "packages": [p["name"] for p in runtime.list_packages()]}))',
        ].join('\n'),
      });
      expect(statusOf(result), describeResult(result)).toBe('success');
      const { slow, packages } = printedJson<{
        slow: InstallAnswer;
        packages: string[];
      }>(result);
      expect(big.success).toBe(false);
      expect(big.message).toMatch(
        /refused before unpacking: its files declare 1\.\d MB uncompressed, more than the package store may hold \(1\.0 MB, MCP_BRIDGE_PACKAGES_MAX_MB\)/,
      );
      expect(slow.success).toBe(false);
      expect(slow.message).toMatch(
        /took longer than 5 s \(MCP_BRIDGE_PACKAGES_TIMEOUT\) and was stopped; nothing was installed/,
      );
      // The index never answers for slowpkg: an answer at all means the budget stopped the
      // install, and not before its 5 s. How long past the budget it took is a figure.
      expect(slow.seconds).toBeGreaterThanOrEqual(5);
      console.info(
        `[${engine.name}] install stopped at its 5 s budget after ${slow.seconds.toFixed(2)} s`,
      );
      expect(index.requests).toContain('/simple/slowpkg/');
      expect(packages).not.toContain('bigpkg');
      expect(await installersOf(docker, limited.pid)).toEqual([]);
    } finally {
      await index.close();
    }
  });
  it('repairs a store volume that Podman gave to the sandbox user, then installs', async () => {
    // Created plainly (as `podman volume create` or a sandbox started outside the bridge
    // would), so Podman chowns it to the first container's user: the sandbox's.
    const plain = `${volume}-plain`;
    await docker.createVolume({ Name: plain });
    try {
      const plainBridge = await start({
        MCP_BRIDGE_PACKAGES_VOLUME: plain,
        MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
        MCP_BRIDGE_PACKAGES_ALLOW: 'tinypkg',
      });
      const result = await plainBridge.run({
        code: [
          'import json, os',
          'before = os.stat("/packages").st_uid',
          'answer = runtime.install_package("tinypkg")',
          'import tinypkg',
          'print("JSON " + json.dumps({"before": before, "after": os.stat("/packages").st_uid,',
          '    "success": answer["success"], "message": answer["message"], "value": tinypkg.VALUE}))',
        ].join('\n'),
      });
      expect(statusOf(result), describeResult(result)).toBe('success');
      // Whether Podman hands the volume to the sandbox user depends on which container
      // mounts it first (the bridge may prepare the store before the sandbox starts):
      // either way the store ends up root-owned and the install works.
      const seen = printedJson<{ before: number }>(result);
      expect([0, 65534]).toContain(seen.before);
      expect(seen).toMatchObject({ after: 0, success: true, value: 42 });
    } finally {
      // The sandbox holds the volume: close its bridge first.
      for (const started of bridges.splice(1)) await started.close();
      await removePackageVolume(docker, plain);
    }
  });
});

/** The installer containers a bridge started (other test files may be installing too). */
function installersOf(docker: Dockerode, bridgePid: number): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.role}=${INSTALLER_ROLE}`, `${LABELS.ownerPid}=${bridgePid}`] },
  });
}
