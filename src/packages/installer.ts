import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { PackagesConfig } from '../config/executor-env.js';
import type { EngineKind } from '../container/engine-candidates.js';
import { buildContainerCreateOptions, type HardeningSettings } from '../container/hardening.js';
import { ownerLabels } from '../container/labels.js';
import { packageRoot } from '../util/package-root.js';
import { PACKAGES_MOUNT } from './package-store.js';
import { RELAY_MOUNT } from './relay/package-relay.js';

/**
 * The installer container (docs/packages.md): a short-lived container of the sandbox's
 * image with the sandbox's hardening (capabilities dropped, no-new-privileges, our seccomp
 * profile, read-only root, memory and pids limits, sized noexec tmpfs), except that
 * - it runs as root (uid 0 without any capability: it can write the root-owned volume
 *   and nothing it does not own),
 * - the package store volume is mounted read-WRITE at /packages,
 * - with an index, pip reaches it through the bridge's package relay (src/packages/relay/),
 *   whose socket folder is mounted read-only: the container itself has no network. With
 *   MCP_BRIDGE_PACKAGES_NETWORK=engine it gets the engine's default network instead; with
 *   a wheel folder (MCP_BRIDGE_PACKAGES_FIND_LINKS, mounted read-only at /wheels), none.
 * It runs the driver (sandbox/mcp/packages_installer.py and sandbox/installer/) isolated
 * (`python3 -I`), which runs pip and updates the store.
 */

/** The engine to run installers on. */
export interface InstallerEngine {
  docker: Dockerode;
  kind: EngineKind;
}

/** The sandbox's settings that the installer reuses: everything but what it replaces. */
export type InstallerHardening = Omit<HardeningSettings, 'command' | 'labels' | 'mounts'>;

export const INSTALLER_ROLE = 'package-installer';
export const STORE_REPAIR_ROLE = 'package-store-repair';
export const WHEELS_MOUNT = '/wheels';
/** pip's own default, made explicit: pip config files and PIP_* variables are ignored. */
export const DEFAULT_INDEX_URL = 'https://pypi.org/simple';
/** pip resolving and unpacking large wheels needs more than a small sandbox limit. */
export const INSTALLER_MIN_MEMORY_BYTES = 1024 * 1024 * 1024;

export type InstallerSettings = Pick<
  PackagesConfig,
  'indexUrl' | 'findLinks' | 'allowSdist' | 'maxBytes' | 'deny' | 'volume' | 'network'
>;

/** Where the installer gets packages from, and the network that needs. */
export interface PackageSource {
  /** Undefined: the engine's default network (MCP_BRIDGE_PACKAGES_NETWORK=engine). */
  networkMode: 'none' | undefined;
  /** Options for every pip run: no prompts, no cache, no version check, wheels only. */
  pipOptions: string[];
  /** The one package source: an index, or the wheel folder with no index. */
  sourceOptions: string[];
  /** An absolute host folder to mount read-only at /wheels. */
  wheelFolder: string | undefined;
  /** The index URL pip reaches through the package relay; undefined: no relay. */
  relayedIndex: string | undefined;
}

/** The index installs use: MCP_BRIDGE_PACKAGES_INDEX_URL, PIP_INDEX_URL, else PyPI. */
export function indexUrlOf(settings: Pick<PackagesConfig, 'indexUrl'>): string {
  return settings.indexUrl ?? DEFAULT_INDEX_URL;
}

/**
 * pip's options for every install: no prompts, no cache, no version check, wheels only
 * unless sdists are allowed, and exactly one package source. Security: never
 * `--extra-index-url`, never `--trusted-host`; a wheel folder means no index at all.
 */
export function packageSource(settings: InstallerSettings): PackageSource {
  const pipOptions = ['--no-input', '--disable-pip-version-check', '--no-cache-dir'];
  if (!settings.allowSdist) pipOptions.push('--only-binary=:all:');
  if (settings.findLinks) {
    return {
      networkMode: 'none',
      pipOptions,
      sourceOptions: ['--no-index', '--find-links', WHEELS_MOUNT],
      wheelFolder: path.resolve(settings.findLinks),
      relayedIndex: undefined,
    };
  }
  const indexUrl = indexUrlOf(settings);
  const relayed = settings.network === 'relay';
  return {
    networkMode: relayed ? 'none' : undefined,
    pipOptions,
    sourceOptions: ['--index-url', indexUrl],
    wheelFolder: undefined,
    relayedIndex: relayed ? indexUrl : undefined,
  };
}

/** What the driver is asked to do (its argv[1], as JSON). */
export interface DriverArguments {
  name: string;
  requirement: string;
  pipOptions: string[];
  sourceOptions: string[];
  maxBytes: number;
  deny: string[];
  /** The package relay's socket inside the container, when pip goes through it. */
  relaySocket?: string;
}

let cachedDriver: string | undefined;

/** The files of the installer's driver, joined in this order into one program. */
export const DRIVER_FILES = [
  ['sandbox', 'mcp', 'packages_installer.py'],
  ['sandbox', 'installer', 'wheel_checks.py'],
  ['sandbox', 'installer', 'relay_forwarder.py'],
] as const;

/**
 * The installer's Python driver, read once from the package's sandbox/ folder: it runs as
 * `python3 -I -c <source>`, so its parts (the driver, its wheel checks, its relay
 * forwarder) are joined into one program, which then calls main().
 */
export function installerDriverSource(): string {
  cachedDriver ??= [
    ...DRIVER_FILES.map((parts) => readFileSync(path.join(packageRoot(), ...parts), 'utf8')),
    'if __name__ == "__main__":\n    main()\n',
  ].join('\n\n');
  return cachedDriver;
}

/** Create options for one installer container; see the file comment for what differs. */
export function buildInstallerCreateOptions(options: {
  hardening: InstallerHardening;
  settings: InstallerSettings;
  request: { name: string; requirement: string };
  driverSource: string;
  /** The package relay (needed when the source is relayed). */
  relay?: { hostDir: string; containerSocket: string } | undefined;
}): Dockerode.ContainerCreateOptions {
  const { hardening, settings, request, relay } = options;
  const source = packageSource(settings);
  if (source.relayedIndex && !relay) throw new Error('a relayed index needs the package relay');
  const args: DriverArguments = {
    name: request.name,
    requirement: request.requirement,
    pipOptions: source.pipOptions,
    sourceOptions: source.sourceOptions,
    maxBytes: settings.maxBytes,
    deny: settings.deny,
    ...(source.relayedIndex && relay ? { relaySocket: relay.containerSocket } : {}),
  };
  const base = buildContainerCreateOptions({
    ...hardening,
    memoryBytes: Math.max(hardening.memoryBytes, INSTALLER_MIN_MEMORY_BYTES),
    labels: ownerLabels(INSTALLER_ROLE),
    // -I: no PYTHON* variable, no user site, no script folder on sys.path; -u: output in order.
    command: ['python3', '-I', '-u', '-c', options.driverSource, JSON.stringify(args)],
  });
  // The sandbox's NetworkMode 'none' goes; the source decides (undefined: the default).
  const hostConfig: Dockerode.HostConfig = { ...base.HostConfig };
  delete hostConfig.NetworkMode;
  const mounts: Dockerode.MountSettings[] = [
    { Type: 'volume', Source: settings.volume, Target: PACKAGES_MOUNT, ReadOnly: false },
  ];
  if (source.wheelFolder) {
    mounts.push({ Type: 'bind', Source: source.wheelFolder, Target: WHEELS_MOUNT, ReadOnly: true });
  }
  if (source.relayedIndex && relay) {
    mounts.push({ Type: 'bind', Source: relay.hostDir, Target: RELAY_MOUNT, ReadOnly: true });
  }
  return {
    ...base,
    // uid 0 with every capability dropped (buildContainerCreateOptions): it owns the
    // fresh volume's root folder, so it can write there without CAP_DAC_OVERRIDE.
    User: '0:0',
    WorkingDir: '/tmp',
    // Replaces the sandbox's list; nothing from the host's environment (PIP_* above all)
    // reaches the installer. The driver gives pip an environment of its own.
    Env: [
      'PYTHONUNBUFFERED=1',
      'PYTHONIOENCODING=utf-8',
      'PYTHONDONTWRITEBYTECODE=1',
      'HOME=/tmp',
      'LANG=C.UTF-8',
    ],
    OpenStdin: false,
    StdinOnce: false,
    AttachStdin: false,
    HostConfig: {
      ...hostConfig,
      ...(source.networkMode ? { NetworkMode: source.networkMode } : {}),
      Mounts: mounts,
    },
  };
}

/**
 * A one-off container that gives the store's root folder back to uid 0. Needed when the
 * volume was created without `uid=0,gid=0` on Podman (by hand, or by a sandbox started
 * outside the bridge, e.g. by `doctor`): Podman then hands it to the first container's
 * user, the sandbox's, and the capability-less installer can no longer write it. The
 * only capability this container gets is CAP_CHOWN; it runs a fixed command, with no
 * network and only the store mounted.
 */
export function buildStoreRepairCreateOptions(options: {
  hardening: InstallerHardening;
  volume: string;
}): Dockerode.ContainerCreateOptions {
  const base = buildContainerCreateOptions({
    ...options.hardening,
    labels: ownerLabels(STORE_REPAIR_ROLE),
    command: [
      'python3',
      '-c',
      `import os; os.chown(${JSON.stringify(PACKAGES_MOUNT)}, 0, 0); os.chmod(${JSON.stringify(PACKAGES_MOUNT)}, 0o755)`,
    ],
  });
  return {
    ...base,
    User: '0:0',
    WorkingDir: '/tmp',
    Env: ['HOME=/tmp'],
    OpenStdin: false,
    StdinOnce: false,
    AttachStdin: false,
    HostConfig: {
      ...base.HostConfig,
      NetworkMode: 'none',
      CapAdd: ['CHOWN'],
      Mounts: [{ Type: 'volume', Source: options.volume, Target: PACKAGES_MOUNT, ReadOnly: false }],
    },
  };
}
