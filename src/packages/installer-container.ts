import type Dockerode from 'dockerode';
import type { EngineKind } from '../container/engine-candidates.js';
import { buildContainerCreateOptions, type HardeningSettings } from '../container/hardening.js';
import { ownerLabels } from '../container/labels.js';
import type { DriverArguments } from './installer-driver.js';
import { packageSource, WHEELS_MOUNT, type InstallerSettings } from './package-source.js';
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
 * It runs the installer's driver (installer-driver.ts: sandbox/mcp_installer/) isolated
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
/** pip resolving and unpacking large wheels needs more than a small sandbox limit. */
export const INSTALLER_MIN_MEMORY_BYTES = 1024 * 1024 * 1024;

/** Create options for one installer container; see the file comment for what differs. */
export function buildInstallerCreateOptions(options: {
  hardening: InstallerHardening;
  settings: InstallerSettings;
  request: { name: string; requirement: string };
  /** The installer's program (installerDriverSource()). */
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
