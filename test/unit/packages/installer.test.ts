import { existsSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MountFact } from '../../../src/channel/frames.js';
import type { PackagesConfig } from '../../../src/config/executor-env.js';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
  type HardeningSettings,
} from '../../../src/container/hardening.js';
import { LABELS } from '../../../src/container/labels.js';
import { verifyHardening } from '../../../src/container/verify-hardening.js';
import { describeRun } from '../../../src/packages/install-outcome.js';
import { PackageRefusedError } from '../../../src/packages/install-result.js';
import {
  buildInstallerCreateOptions,
  INSTALLER_MIN_MEMORY_BYTES,
  type InstallerHardening,
} from '../../../src/packages/installer-container.js';
import {
  installerDriverSource,
  type DriverArguments,
} from '../../../src/packages/installer-driver.js';
import {
  parseDriverResult,
  RESULT_MARKER,
  summarizeOutput,
  type InstallerRun,
} from '../../../src/packages/installer-run.js';
import { PackageManager } from '../../../src/packages/package-manager.js';
import { DEFAULT_INDEX_URL, packageSource } from '../../../src/packages/package-source.js';
import { parsePackageSpec } from '../../../src/packages/package-spec.js';
import {
  sandboxStoreMount,
  storeVolumeDriverOptions,
} from '../../../src/packages/package-store.js';
import { buildStoreRepairCreateOptions } from '../../../src/packages/store-repair.js';
import type { DependencyInstaller } from '../../../src/server/dependencies.js';
import { loadSandboxSources } from '../../../src/session/boot-modules.js';
import { confinedFacts } from '../../support/sandbox-facts.js';

const MiB = 1024 * 1024;

const hardening: InstallerHardening = {
  engine: 'docker',
  image: 'localhost/mcp-sandbox:test',
  user: '65534:65534',
  memoryBytes: 512 * MiB,
  pidsLimit: 128,
  ...hardeningDefaults(),
};

function packagesConfig(overrides: Partial<PackagesConfig> = {}): PackagesConfig {
  return {
    policy: 'allowlist',
    allow: ['tinypkg'],
    deny: [],
    indexUrl: undefined,
    findLinks: undefined,
    network: 'relay',
    fileHosts: undefined,
    allowSdist: false,
    autoInstall: true,
    timeoutSeconds: 180,
    maxBytes: 1024 * MiB,
    volume: 'mcp-bridge-packages',
    ...overrides,
  };
}

const relay = {
  hostDir: '/tmp/mcp-bridge-relay-1-abc',
  containerSocket: '/run/mcp-bridge-relay/relay.sock',
};

function installerOptions(config: PackagesConfig, engine: 'docker' | 'podman' = 'docker') {
  return buildInstallerCreateOptions({
    relay,
    hardening: {
      ...hardening,
      engine,
      seccompProfilePath: engine === 'podman' ? '/state/seccomp-0123.json' : undefined,
    },
    settings: config,
    request: { name: 'tinypkg', requirement: 'tinypkg>=0.1' },
    driverSource: 'print("driver")',
  });
}

function driverArguments(options: Dockerode.ContainerCreateOptions): DriverArguments {
  const cmd = options.Cmd ?? [];
  expect(cmd.slice(0, 5)).toEqual(['python3', '-I', '-u', '-c', 'print("driver")']);
  return JSON.parse(cmd[5] ?? '') as DriverArguments;
}

describe('packageSource', () => {
  const common = ['--no-input', '--disable-pip-version-check', '--no-cache-dir'];

  it('uses a wheel folder with no index and no network', () => {
    expect(
      packageSource(packagesConfig({ findLinks: '/srv/wheels', indexUrl: 'https://x' })),
    ).toEqual({
      networkMode: 'none',
      pipOptions: [...common, '--only-binary=:all:'],
      sourceOptions: ['--no-index', '--find-links', '/wheels'],
      wheelFolder: '/srv/wheels',
      relayedIndex: undefined,
    });
  });

  it('resolves a relative wheel folder against the working directory', () => {
    expect(packageSource(packagesConfig({ findLinks: 'wheels' })).wheelFolder).toBe(
      `${process.cwd()}/wheels`,
    );
  });

  it('reaches any index, loopback or not, through the relay with no network of its own', () => {
    for (const indexUrl of ['http://127.0.0.1:3141/simple/', 'https://mirror.example/simple']) {
      expect(packageSource(packagesConfig({ indexUrl }))).toEqual({
        networkMode: 'none',
        pipOptions: [...common, '--only-binary=:all:'],
        sourceOptions: ['--index-url', indexUrl],
        wheelFolder: undefined,
        relayedIndex: indexUrl,
      });
    }
  });

  it("names pip's default index explicitly", () => {
    expect(packageSource(packagesConfig()).sourceOptions).toEqual([
      '--index-url',
      DEFAULT_INDEX_URL,
    ]);
    expect(packageSource(packagesConfig()).relayedIndex).toBe(DEFAULT_INDEX_URL);
  });

  it("uses the engine's default network, never the host's, with MCP_BRIDGE_PACKAGES_NETWORK=engine", () => {
    for (const indexUrl of ['http://127.0.0.1:3141/simple/', 'https://mirror.example/simple']) {
      const source = packageSource(packagesConfig({ indexUrl, network: 'engine' }));
      expect(source.networkMode).toBeUndefined();
      expect(source.relayedIndex).toBeUndefined();
    }
  });

  it('allows sdists only when the operator says so', () => {
    expect(packageSource(packagesConfig({ allowSdist: true })).pipOptions).not.toContain(
      '--only-binary=:all:',
    );
  });
});

describe('buildInstallerCreateOptions', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("keeps the sandbox's hardening", () => {
    const options = installerOptions(packagesConfig({ findLinks: '/srv/wheels' }));
    const host = options.HostConfig ?? {};
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toBeUndefined();
    expect(host.Privileged).toBeUndefined();
    const securityOpt = (host.SecurityOpt ?? []) as string[];
    expect(securityOpt[0]).toBe('no-new-privileges');
    expect(securityOpt[1]).toMatch(/^seccomp=\{/);
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.PidsLimit).toBe(128);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.Tmpfs?.['/tmp']).toMatch(/noexec,nosuid,nodev,size=/);
    expect(host.Ulimits?.map((limit) => limit.Name)).toEqual([
      'nofile',
      'nproc',
      'core',
      'msgqueue',
    ]);
    expect(host.LogConfig?.Type).toBe('none');
    expect(host.Init).toBe(true);
    expect(host.IpcMode).toBe('private');
  });

  it('takes the seccomp profile as a file on Podman', () => {
    const options = installerOptions(packagesConfig({ findLinks: '/srv/wheels' }), 'podman');
    expect(options.HostConfig?.SecurityOpt).toEqual([
      'no-new-privileges',
      'seccomp=/state/seccomp-0123.json',
    ]);
  });

  it('runs as root without capabilities, with at least 1 GiB, labelled as an installer', () => {
    const options = installerOptions(packagesConfig());
    expect(options.User).toBe('0:0');
    expect(options.HostConfig?.Memory).toBe(INSTALLER_MIN_MEMORY_BYTES);
    expect(options.Labels?.[LABELS.role]).toBe('package-installer');
    expect(options.Labels?.[LABELS.managed]).toBe('true');
    expect(options.Labels?.[LABELS.ownerPid]).toBe(String(process.pid));
    expect(options.OpenStdin).toBe(false);
    expect(options.AttachStdin).toBe(false);
  });

  it('mounts the store read-write, and the wheel folder read-only with no network', () => {
    const options = installerOptions(
      packagesConfig({ findLinks: '/srv/wheels', volume: 'my-store' }),
    );
    expect(options.HostConfig?.NetworkMode).toBe('none');
    expect(options.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'my-store', Target: '/packages', ReadOnly: false },
      { Type: 'bind', Source: '/srv/wheels', Target: '/wheels', ReadOnly: true },
    ]);
  });

  it('gives an index install no network, and the relay folder read-only', () => {
    for (const indexUrl of ['http://localhost:3141/s/', 'https://mirror.example/s/']) {
      const options = installerOptions(packagesConfig({ indexUrl, volume: 'my-store' }));
      expect(options.HostConfig?.NetworkMode).toBe('none');
      expect(options.HostConfig?.Mounts).toEqual([
        { Type: 'volume', Source: 'my-store', Target: '/packages', ReadOnly: false },
        { Type: 'bind', Source: relay.hostDir, Target: '/run/mcp-bridge-relay', ReadOnly: true },
      ]);
      expect(driverArguments(options).relaySocket).toBe(relay.containerSocket);
    }
    expect(() =>
      buildInstallerCreateOptions({
        hardening,
        settings: packagesConfig(),
        request: { name: 'x', requirement: 'x' },
        driverSource: '',
      }),
    ).toThrow(/needs the package relay/);
  });

  it("uses the engine's default network with MCP_BRIDGE_PACKAGES_NETWORK=engine, and no relay", () => {
    const options = installerOptions(
      packagesConfig({ indexUrl: 'http://localhost:3141/s/', network: 'engine' }),
    );
    expect(options.HostConfig && 'NetworkMode' in options.HostConfig).toBe(false);
    expect(options.HostConfig?.Mounts).toHaveLength(1);
    expect(driverArguments(options).relaySocket).toBeUndefined();
  });

  it('passes the driver its arguments: the requirement, pip options, limit and deny list', () => {
    const options = installerOptions(
      packagesConfig({
        indexUrl: 'https://mirror.example/simple',
        deny: ['evil'],
        maxBytes: 10 * MiB,
      }),
    );
    expect(driverArguments(options)).toEqual({
      name: 'tinypkg',
      requirement: 'tinypkg>=0.1',
      pipOptions: [
        '--no-input',
        '--disable-pip-version-check',
        '--no-cache-dir',
        '--only-binary=:all:',
      ],
      sourceOptions: ['--index-url', 'https://mirror.example/simple'],
      maxBytes: 10 * MiB,
      deny: ['evil'],
      relaySocket: '/run/mcp-bridge-relay/relay.sock',
    });
  });

  it('never forwards the host environment, and never adds an extra index', () => {
    vi.stubEnv('PIP_EXTRA_INDEX_URL', 'https://evil.example/simple');
    vi.stubEnv('PIP_INDEX_URL', 'https://evil.example/simple');
    vi.stubEnv('PIP_TRUSTED_HOST', 'evil.example');
    for (const config of [
      packagesConfig(),
      packagesConfig({ findLinks: '/srv/wheels' }),
      packagesConfig({ indexUrl: 'http://127.0.0.1:1/simple' }),
      packagesConfig({ allowSdist: true }),
    ]) {
      const options = installerOptions(config);
      expect(options.Env).toEqual([
        'PYTHONUNBUFFERED=1',
        'PYTHONIOENCODING=utf-8',
        'PYTHONDONTWRITEBYTECODE=1',
        'HOME=/tmp',
        'LANG=C.UTF-8',
      ]);
      const command = JSON.stringify(options.Cmd);
      expect(command).not.toMatch(/extra-index-url|trusted-host|evil\.example/);
    }
  });
});

describe('buildStoreRepairCreateOptions', () => {
  it('gives a fixed chown command CAP_CHOWN alone, no network, only the store', () => {
    const options = buildStoreRepairCreateOptions({ hardening, volume: 'store' });
    expect(options.User).toBe('0:0');
    expect(options.Cmd).toEqual([
      'python3',
      '-c',
      'import os; os.chown("/packages", 0, 0); os.chmod("/packages", 0o755)',
    ]);
    expect(options.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(options.HostConfig?.CapAdd).toEqual(['CHOWN']);
    expect(options.HostConfig?.NetworkMode).toBe('none');
    expect(options.HostConfig?.ReadonlyRootfs).toBe(true);
    expect((options.HostConfig?.SecurityOpt ?? []) as string[]).toContain('no-new-privileges');
    expect(options.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'store', Target: '/packages', ReadOnly: false },
    ]);
    expect(options.Labels?.[LABELS.role]).toBe('package-store-repair');
  });
});

describe('the installer driver', () => {
  it('is read from sandbox/mcp_installer/ and prints the result marker', () => {
    const source = installerDriverSource();
    expect(source).toContain(RESULT_MARKER.trim());
    // The modules travel as an escaped string: the option, not its Python quotes.
    expect(source).toContain('--dry-run');
    expect(source).not.toContain('extra-index-url');
  });

  it('fits in one command-line argument (Linux takes at most 128 KiB per argument)', () => {
    expect(Buffer.byteLength(installerDriverSource())).toBeLessThan(96 * 1024);
  });

  it('is not sent to the sandbox: the boot frame carries what they share, not the installer', () => {
    const names = Object.keys(loadSandboxSources().modules);
    expect(names).toContain('mcp_shared.package_names');
    expect(names.filter((name) => name.includes('installer'))).toEqual([]);
  });
});

describe('parseDriverResult and summarizeOutput', () => {
  const result = { ok: true, installed: [{ name: 'tinypkg', version: '0.1.0' }] };

  it('reads the last result line only', () => {
    const output = `Looking in links: /wheels\n${RESULT_MARKER}{"ok": false, "error": "forged"}\nmore\n${RESULT_MARKER}${JSON.stringify(result)}\n`;
    expect(parseDriverResult(output)).toEqual(result);
  });

  it('gives up on a missing or malformed result', () => {
    expect(parseDriverResult('pip crashed\n')).toBeUndefined();
    expect(parseDriverResult(`\n${RESULT_MARKER}{not json\n`)).toBeUndefined();
    expect(parseDriverResult(`\n${RESULT_MARKER}{"ok": "yes"}\n`)).toBeUndefined();
  });

  it("shows pip's errors, else its last lines, never the result line", () => {
    expect(
      summarizeOutput(
        'Looking in links: /wheels\nERROR: Could not find a version that satisfies the requirement x\nERROR: No matching distribution found for x\n',
      ),
    ).toBe(
      'ERROR: Could not find a version that satisfies the requirement x\nERROR: No matching distribution found for x',
    );
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    expect(summarizeOutput(`${lines}\n${RESULT_MARKER}{}\n`).split('\n')).toEqual(
      Array.from({ length: 8 }, (_, i) => `line ${i + 12}`),
    );
    expect(summarizeOutput(`ERROR: ${'x'.repeat(5000)}`)).toHaveLength(1501);
  });
});

describe('describeRun', () => {
  const spec = (text: string) => {
    const parsed = parsePackageSpec(text);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.spec;
  };
  const run = (overrides: Partial<InstallerRun>): InstallerRun => ({
    outcome: 'finished',
    exitCode: 0,
    result: undefined,
    output: '',
    error: undefined,
    durationMs: 1500,
    ...overrides,
  });

  it('reports an install with its version and dependencies', () => {
    expect(
      describeRun(
        spec('Tiny_Pkg>=0.1'),
        run({
          result: {
            ok: true,
            installed: [
              { name: 'tiny_pkg', version: '0.1.0' },
              { name: 'dep', version: '2.0' },
            ],
            requested: { name: 'tiny_pkg', version: '0.1.0' },
          },
        }),
        180,
      ),
    ).toEqual({
      success: true,
      message: 'Installed tiny-pkg 0.1.0 with dep 2.0 in 1.5 s.',
      version: '0.1.0',
      installed: [
        { name: 'tiny_pkg', version: '0.1.0' },
        { name: 'dep', version: '2.0' },
      ],
    });
  });

  it('reports a request that was already satisfied', () => {
    expect(
      describeRun(
        spec('numpy'),
        run({
          result: {
            ok: true,
            alreadySatisfied: true,
            installed: [],
            requested: { name: 'numpy', version: '1.24.2' },
          },
        }),
        180,
      ),
    ).toMatchObject({
      success: true,
      message: 'numpy 1.24.2 is already installed (nothing to do).',
    });
  });

  it('explains failures with what pip said', () => {
    const failed = describeRun(
      spec('x'),
      run({
        exitCode: 1,
        result: { ok: false, error: 'pip could not resolve x (exit code 1)' },
        output: 'ERROR: No matching distribution found for x\n',
      }),
      180,
    );
    expect(failed).toEqual({
      success: false,
      message:
        'Installing x failed: pip could not resolve x (exit code 1).\npip said:\nERROR: No matching distribution found for x',
    });
  });

  it('says when pip could not reach the index', () => {
    const output =
      "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/tabulate/\nERROR: No matching distribution found for tabulate\n";
    const failed = describeRun(
      spec('tabulate'),
      run({ exitCode: 1, result: { ok: false, error: 'pip could not resolve tabulate' }, output }),
      180,
    );
    expect(failed.message).toBe(
      "Installing tabulate failed: pip could not reach the package index (Temporary failure in name resolution): check MCP_BRIDGE_PACKAGES_INDEX_URL (the bridge's host must reach it), or install offline from MCP_BRIDGE_PACKAGES_FIND_LINKS.\npip said:\nERROR: No matching distribution found for tabulate",
    );
  });

  it('says when the relay could not reach the index', () => {
    const output =
      "WARNING: Retrying (Retry(total=0)) after connection broken by 'ProxyError('Cannot connect to proxy.', OSError('Tunnel connection failed: 502 Bad Gateway'))': /simple/tabulate/\n";
    const failed = describeRun(
      spec('tabulate'),
      run({ exitCode: 1, result: { ok: false, error: 'pip could not resolve tabulate' }, output }),
      180,
    );
    expect(failed.message).toMatch(/could not reach the package index \(502 Bad Gateway\)/);
  });

  it('names what the package relay refused, a few at most', () => {
    const refusals = Array.from({ length: 5 }, (_, i) => ({
      request: `GET http://127.0.0.1:${9000 + i}/x.whl`,
      reason: `http://127.0.0.1:${9000 + i} is neither the package index nor one of its file hosts`,
    }));
    const failed = describeRun(
      spec('x'),
      run({
        exitCode: 1,
        result: { ok: false, error: 'pip could not resolve x (exit code 1)' },
        output: 'ERROR: HTTP error 403 while getting http://127.0.0.1:9000/x.whl\n',
      }),
      180,
      refusals,
    );
    expect(failed.message).toBe(
      "Installing x failed: pip could not resolve x (exit code 1).\nThe bridge's package relay refused what pip asked for: GET http://127.0.0.1:9000/x.whl (http://127.0.0.1:9000 is neither the package index nor one of its file hosts); GET http://127.0.0.1:9001/x.whl (http://127.0.0.1:9001 is neither the package index nor one of its file hosts); GET http://127.0.0.1:9002/x.whl (http://127.0.0.1:9002 is neither the package index nor one of its file hosts); and 2 more. The installer reaches only the index and its file hosts (MCP_BRIDGE_PACKAGES_FILE_HOSTS).\npip said:\nERROR: HTTP error 403 while getting http://127.0.0.1:9000/x.whl",
    );
  });

  it('explains a timeout, a cancelled call, a missing result and an engine failure', () => {
    expect(describeRun(spec('x'), run({ outcome: 'timeout' }), 42).message).toMatch(
      /longer than 42 s \(MCP_BRIDGE_PACKAGES_TIMEOUT\) and was stopped; nothing was installed/,
    );
    expect(describeRun(spec('x'), run({ outcome: 'aborted' }), 42).message).toMatch(
      /call that asked for it ended/,
    );
    expect(describeRun(spec('x'), run({ exitCode: 137 }), 42).message).toMatch(
      /exit code 137\) without a result/,
    );
    expect(
      describeRun(
        spec('x'),
        run({ outcome: 'failed-to-start', error: 'network bridge not found' }),
        42,
      ).message,
    ).toMatch(/could not run \(network bridge not found\).*MCP_BRIDGE_PACKAGES_FIND_LINKS/);
  });
});

describe('PackageManager', () => {
  const engine = { docker: {} as Dockerode, kind: 'docker' as const };
  const quietLogger = {
    info: () => undefined,
    warn: () => undefined,
    child: () => quietLogger,
  };

  /** An installer run that installed tinypkg 0.1.0. */
  function installedTinypkg(durationMs: number): InstallerRun {
    const tinypkg = { name: 'tinypkg', version: '0.1.0' };
    return {
      outcome: 'finished',
      exitCode: 0,
      result: { ok: true, installed: [tinypkg], requested: tinypkg },
      output: '',
      error: undefined,
      durationMs,
    };
  }

  function manager(
    overrides: Partial<PackagesConfig> = {},
    runInstaller = vi.fn((): Promise<InstallerRun> => Promise.resolve(installedTinypkg(10))),
  ) {
    const docker = {
      getVolume: () => ({ inspect: () => Promise.resolve({}) }),
    } as unknown as Dockerode;
    const packages = new PackageManager({
      config: packagesConfig(overrides),
      engine: () => Promise.resolve({ ...engine, docker }),
      hardening: () => hardening,
      logger: quietLogger as never,
      driverSource: () => 'print(1)',
      runInstaller,
    });
    return { packages, runInstaller };
  }

  it('refuses invalid and unlisted names without running an installer', async () => {
    const { packages, runInstaller } = manager();
    await expect(packages.installOrRefuse('git+https://x/y')).rejects.toBeInstanceOf(
      PackageRefusedError,
    );
    await expect(packages.installOrRefuse('requests2')).rejects.toThrow(
      /^Cannot install 'requests2': 'requests2' is not on the allowlist/,
    );
    const refused = await packages.install('-e .');
    expect(refused).toMatchObject({ package: '-e .', success: false });
    expect(refused.message).toMatch(/pip options/);
    expect(runInstaller).not.toHaveBeenCalled();
  });

  it('refuses everything when off', async () => {
    const { packages, runInstaller } = manager({ policy: 'off' });
    await expect(packages.installOrRefuse('tinypkg')).rejects.toThrow(
      "Cannot install 'tinypkg': package installs are disabled (MCP_BRIDGE_PACKAGES=off)",
    );
    expect(packages.autoInstall).toBe(false);
    expect(runInstaller).not.toHaveBeenCalled();
  });

  it('installs an allowed name and reports it', async () => {
    const { packages, runInstaller } = manager();
    const result = await packages.install(' tinypkg ');
    expect(result).toMatchObject({
      package: 'tinypkg',
      success: true,
      version: '0.1.0',
      message: 'Installed tinypkg 0.1.0 in 0.0 s.',
      durationMs: 10,
    });
    expect(Date.parse(result.installedAt)).not.toBeNaN();
    expect(runInstaller).toHaveBeenCalledTimes(1);
    const [, options, runOptions] = runInstaller.mock.calls[0] as unknown as [
      Dockerode,
      Dockerode.ContainerCreateOptions,
      { timeoutMs: number },
    ];
    expect(options.User).toBe('0:0');
    expect(runOptions.timeoutMs).toBe(180_000);
  });

  it('runs one installer at a time', async () => {
    let running = 0;
    let most = 0;
    const { packages } = manager(
      { policy: 'on' },
      vi.fn(async (): Promise<InstallerRun> => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        return {
          outcome: 'finished',
          exitCode: 0,
          result: { ok: true, installed: [] },
          output: '',
          error: undefined,
          durationMs: 20,
        };
      }),
    );
    await Promise.all(['a', 'b', 'c'].map((name) => packages.install(name)));
    expect(most).toBe(1);
  });

  it('repairs a store owned by another user, then installs again', async () => {
    const outcomes: InstallerRun[] = [
      {
        outcome: 'finished',
        exitCode: 1,
        result: { ok: false, error: 'the package store is not writable', storeOwner: 65534 },
        output: '',
        error: undefined,
        durationMs: 5,
      },
      {
        outcome: 'finished',
        exitCode: 0,
        result: undefined,
        output: '',
        error: undefined,
        durationMs: 5,
      },
      installedTinypkg(5),
    ];
    const runInstaller = vi.fn(() => Promise.resolve(outcomes.shift() as InstallerRun));
    const { packages } = manager({}, runInstaller);
    expect(await packages.install('tinypkg')).toMatchObject({ success: true, version: '0.1.0' });
    const roles = runInstaller.mock.calls.map(
      (call) =>
        (call as unknown as [unknown, Dockerode.ContainerCreateOptions])[1].Labels?.[LABELS.role],
    );
    expect(roles).toEqual(['package-installer', 'package-store-repair', 'package-installer']);
  });

  it('does not start an install whose call already ended', async () => {
    const { packages, runInstaller } = manager();
    const controller = new AbortController();
    controller.abort();
    const result = await packages.installOrRefuse('tinypkg', { signal: controller.signal });
    expect(result).toMatchObject({ success: false, message: 'The install was cancelled.' });
    expect(runInstaller).not.toHaveBeenCalled();
  });

  it('reports an engine that cannot be reached', async () => {
    const packages = new PackageManager({
      config: packagesConfig(),
      engine: () => Promise.reject(new Error('no engine')),
      hardening: () => hardening,
      logger: { info: () => undefined, warn: () => undefined } as never,
    });
    expect(await packages.install('tinypkg')).toMatchObject({
      success: false,
      message: 'Cannot install tinypkg: the container engine is not available (no engine)',
    });
  });

  it('maps import names and serves automatic installs', () => {
    const { packages } = manager();
    const installer: DependencyInstaller = packages;
    expect(installer.autoInstall).toBe(true);
    expect(installer.distributionFor('cv2')).toBe('opencv-python');
    expect(manager({ autoInstall: false }).packages.autoInstall).toBe(false);
  });

  it('opens a package relay for an index install, mounts it, and closes it afterwards', async () => {
    let seen: Dockerode.ContainerCreateOptions | undefined;
    const { packages } = manager(
      { indexUrl: 'http://127.0.0.1:3141/simple/' },
      vi.fn((_docker: Dockerode, options: Dockerode.ContainerCreateOptions) => {
        seen = options;
        return Promise.resolve(installedTinypkg(10));
      }),
    );
    expect((await packages.install('tinypkg')).success).toBe(true);
    const relayMount = seen?.HostConfig?.Mounts?.find(
      (mount) => mount.Target === '/run/mcp-bridge-relay',
    );
    expect(seen?.HostConfig?.NetworkMode).toBe('none');
    expect(relayMount).toMatchObject({ Type: 'bind', ReadOnly: true });
    expect(relayMount?.Source).toMatch(/mcp-bridge-relay-\d+-/);
    expect(existsSync(relayMount?.Source ?? '')).toBe(false);
    // No relay without an index.
    const offline = manager(
      { findLinks: '/srv/wheels' },
      vi.fn((_docker: Dockerode, options: Dockerode.ContainerCreateOptions) => {
        seen = options;
        return Promise.resolve(installedTinypkg(10));
      }),
    );
    await offline.packages.install('tinypkg');
    expect(seen?.HostConfig?.Mounts?.map((mount) => mount.Target)).toEqual([
      '/packages',
      '/wheels',
    ]);
  });
});

describe('the store volume', () => {
  it('is created root-owned on Podman (never chowned to the sandbox user), plainly on Docker', () => {
    expect(storeVolumeDriverOptions('podman')).toEqual({ o: 'uid=0,gid=0' });
    expect(storeVolumeDriverOptions('docker')).toEqual({});
  });
});

describe('the sandbox and the store', () => {
  const sandbox: HardeningSettings = { ...hardening, labels: {}, command: ['python3'] };

  it('mounts the store read-only when a volume is named, and nothing otherwise', () => {
    expect(
      buildContainerCreateOptions({ ...sandbox, mounts: [sandboxStoreMount('store')] }).HostConfig
        ?.Mounts,
    ).toEqual([
      {
        Type: 'volume',
        Source: 'store',
        Target: '/packages',
        ReadOnly: true,
        VolumeOptions: { NoCopy: true },
      },
    ]);
    expect(buildContainerCreateOptions(sandbox).HostConfig?.Mounts).toBeUndefined();
  });

  const base: MountFact[] = [
    { target: '/', fstype: 'overlay', options: ['ro', 'relatime', 'rw'] },
    ...[
      ['/tmp', '65536k'],
      ['/workspace', '131072k'],
      ['/run', '1024k'],
    ].map(([target, size]) => ({
      target: target ?? '',
      fstype: 'tmpfs',
      options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'rw', `size=${size}`],
    })),
    {
      target: '/var/tmp',
      fstype: 'tmpfs',
      options: ['ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'rw', 'size=1024k'],
    },
    {
      target: '/dev/shm',
      fstype: 'tmpfs',
      options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'rw', 'size=8192k'],
    },
  ];
  // As mountinfo shows the store on each engine (captured on Docker 20.10 and Podman 4.3).
  const dockerStore = { target: '/packages', fstype: 'ext4', options: ['ro', 'relatime', 'rw'] };
  const podmanStore = {
    target: '/packages',
    fstype: 'ext4',
    options: ['ro', 'nosuid', 'nodev', 'relatime', 'rw'],
  };
  const writable = { ...dockerStore, options: ['rw', 'relatime', 'rw'] };

  const withStore = { ...sandbox, mounts: [sandboxStoreMount('store')] };

  it('accepts the read-only store on both engines', () => {
    expect(verifyHardening(confinedFacts([...base, dockerStore]), withStore)).toEqual([]);
    expect(verifyHardening(confinedFacts([...base, podmanStore]), withStore)).toEqual([]);
  });

  it('flags a writable store, once', () => {
    expect(verifyHardening(confinedFacts([...base, writable]), withStore)).toEqual([
      'the package store /packages is writable, expected read-only',
    ]);
  });

  it('flags a store that was asked for and is missing', () => {
    expect(verifyHardening(confinedFacts(base), withStore)).toEqual([
      'the package store is not mounted at /packages',
    ]);
  });

  it('still flags a writable /packages nobody asked for', () => {
    expect(verifyHardening(confinedFacts([...base, writable]), sandbox)).toEqual([
      'writable mount /packages (ext4) that we did not ask for',
    ]);
  });
});
