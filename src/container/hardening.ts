import path from 'node:path';
import type Dockerode from 'dockerode';
import type { OciRuntime } from '../config/env.js';
import { ConfigError } from '../errors.js';
import type { EngineKind } from './engine-candidates.js';
import { processLimits } from './gvisor-limits.js';
import { gvisorSeccompProfile } from './seccomp-gvisor.js';
import { buildSeccompProfile, seccompProfileJson } from './seccomp-profile.js';

const MiB = 1024 * 1024;

/** Everything that shapes the sandbox container; the caller builds it from config. */
export interface HardeningSettings {
  /**
   * The engine decides how two options must be spelled (see buildContainerCreateOptions).
   * Optional only so that settings used just for verifyHardening need not name it;
   * buildContainerCreateOptions refuses to build without it.
   */
  engine?: EngineKind | undefined;
  /**
   * Podman only, required there: a file holding our seccomp profile, readable by the
   * Podman service (see writeSeccompProfileFile). Docker gets the profile inline. Under
   * runsc the file must hold gvisorSeccompProfile().
   */
  seccompProfilePath?: string | undefined;
  image: string;
  /** Numeric "uid:gid", e.g. "65534:65534". */
  user: string;
  memoryBytes: number;
  pidsLimit: number;
  cpus?: number | undefined;
  /** Writable, noexec tmpfs sizes: by default /tmp 64 MiB, /workspace 128 MiB. */
  tmpSizeBytes: number;
  workspaceSizeBytes: number;
  /** /run and /var/tmp: Podman adds them unsized and writable unless we mount them. */
  runSizeBytes: number;
  varTmpSizeBytes: number;
  shmSizeBytes: number;
  /** RLIMIT_NOFILE and RLIMIT_NPROC (soft = hard). nproc counts per host uid, across containers. */
  nofile: number;
  nproc: number;
  labels: Record<string, string>;
  command: string[];
  /**
   * Volumes and host folders the composition root gives the sandbox (the package store,
   * the socket lane's folder, the user's MCP_BRIDGE_MOUNTS), read-only unless a host
   * folder is `writable`. verifyHardening checks that each one it is given is there, with
   * that access.
   */
  mounts?: readonly SandboxMount[] | undefined;
  /**
   * The OCI runtime the engine must use (HostConfig.Runtime); unset: the engine's default.
   * `runsc` (gVisor) changes what the sandbox can see of itself (expected-facts.ts) and
   * how the process limit is applied (gvisor-limits.ts).
   */
  ociRuntime?: OciRuntime | undefined;
}

/** A mount the sandbox gets; the container layer does not know what it is for. */
export interface SandboxMount {
  /** What verifyHardening's problems call it, e.g. "the package store". */
  name: string;
  /**
   * The engine's mount (type, source, target); it is made read-only whatever it says,
   * unless it is a `hostFolder` marked `writable`.
   */
  mount: Dockerode.MountSettings;
  /**
   * A bind of a folder the user chose (MCP_BRIDGE_MOUNTS): on Podman it is mounted
   * nosuid,nodev,noexec (spelled as a bind, which Podman's compat API takes with options),
   * and verifyHardening checks those flags; Docker's API takes no such options for binds.
   */
  hostFolder?: boolean | undefined;
  /** Only with `hostFolder`: the sandbox may write to it. */
  writable?: boolean | undefined;
}

export type HardeningDefaults = Pick<
  HardeningSettings,
  | 'tmpSizeBytes'
  | 'workspaceSizeBytes'
  | 'runSizeBytes'
  | 'varTmpSizeBytes'
  | 'shmSizeBytes'
  | 'nofile'
  | 'nproc'
>;

/** The sizes and limits nobody configures; a fresh object per call. */
export function hardeningDefaults(): HardeningDefaults {
  return {
    tmpSizeBytes: 64 * MiB,
    workspaceSizeBytes: 128 * MiB,
    runSizeBytes: 1 * MiB,
    varTmpSizeBytes: 1 * MiB,
    shmSizeBytes: 8 * MiB,
    // Our test hosts' ceilings: nofile ≤ 20000, nproc ≤ 32768 (measured). PidsLimit is the
    // real per-sandbox cap; nproc is shared by every sandbox running as the same uid.
    nofile: 4096,
    nproc: 16384,
  };
}

export const WORKSPACE_DIR = '/workspace';

/**
 * RLIMIT_CORE, soft and hard: no core dumps. A dump copies the process's memory to a file
 * in its working directory, or to the host's core handler when `core_pattern` is a pipe.
 */
export const CORE_DUMP_LIMIT = 0;

/**
 * RLIMIT_MSGQUEUE, soft and hard: no POSIX message queues. The kernel counts queue bytes
 * per user, and every sandbox runs as the same host uid, so queues one sandbox keeps would
 * be taken from every other (819,200 bytes in all by default: nine full queues).
 */
export const MESSAGE_QUEUE_LIMIT = 0;

/** Above this, runc refuses ids (and 2^32 - 1 means "unchanged" to setresgid). */
const MAX_ID = 2 ** 31 - 1;

/** Parses a numeric "uid:gid"; throws ConfigError otherwise (names would need /etc/passwd). */
export function parseUser(user: string): { uid: number; gid: number } {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(user);
  if (!match) throw new ConfigError(`Container user must be numeric uid:gid, got "${user}"`);
  const uid = Number(match[1]);
  const gid = Number(match[2]);
  // Security: the sandbox must never run as root, nor in root's group (files root shares
  // with admins only are group 0), whatever the config said.
  if (uid === 0) throw new ConfigError('Container user must not be root (uid 0)');
  if (gid === 0) throw new ConfigError("Container user must not be in root's group (gid 0)");
  if (uid > MAX_ID || gid > MAX_ID)
    throw new ConfigError(`Container user ids must be at most ${MAX_ID}, got "${user}"`);
  return { uid, gid };
}

function checkSettings(settings: HardeningSettings): void {
  const positive: [string, number][] = [
    ['memoryBytes', settings.memoryBytes],
    ['pidsLimit', settings.pidsLimit],
    ['tmpSizeBytes', settings.tmpSizeBytes],
    ['workspaceSizeBytes', settings.workspaceSizeBytes],
    ['runSizeBytes', settings.runSizeBytes],
    ['varTmpSizeBytes', settings.varTmpSizeBytes],
    ['shmSizeBytes', settings.shmSizeBytes],
    ['nofile', settings.nofile],
    ['nproc', settings.nproc],
  ];
  for (const [name, value] of positive) {
    // Security: 0 means "unlimited" to both engines; a limit must never vanish that way.
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ConfigError(`Hardening setting ${name} must be a positive integer, got ${value}`);
    }
  }
  if (settings.cpus !== undefined && !(settings.cpus > 0 && Number.isFinite(settings.cpus))) {
    throw new ConfigError(`Hardening setting cpus must be a positive number, got ${settings.cpus}`);
  }
  if (settings.command.length === 0) throw new ConfigError('The sandbox command is empty');
}

/**
 * `seccomp=…` as each engine takes it through the API. Docker: the JSON itself (its CLI
 * inlines the file). Podman 4.3's compat API: a path; inline JSON fails with "file name
 * too long" (measured; podman issue 27710).
 */
function seccompOption(settings: HardeningSettings): string {
  switch (settings.engine) {
    case 'docker':
      return `seccomp=${seccompProfileJson(settings.ociRuntime === 'runsc' ? gvisorSeccompProfile() : buildSeccompProfile())}`;
    case 'podman':
      // Relative paths would resolve against the Podman service's working directory.
      if (!settings.seccompProfilePath || !path.isAbsolute(settings.seccompProfilePath)) {
        throw new ConfigError(
          'Podman takes the seccomp profile only as a file: set seccompProfilePath to an absolute path (writeSeccompProfileFile)',
        );
      }
      return `seccomp=${settings.seccompProfilePath}`;
    case undefined:
      // Security: fail closed; guessing wrong would mean no profile or no container.
      throw new ConfigError('Hardening settings must name the engine (docker or podman)');
  }
}

/**
 * Tmpfs options: always noexec,nosuid,nodev and an explicit size. runc replaces `mode=`
 * with the mount point's own mode when the directory already exists (so /tmp keeps the
 * image's 1777 and /run its 0755). /workspace, the one writable place we create:
 * - Docker creates the WorkingDir (root, 0755) before mounting, so `mode=` is lost; it
 *   accepts `uid=`/`gid=`, which make the sandbox user the owner.
 * - Podman 4.3 rejects `uid=` ("unknown mount option") and leaves the directory to runc,
 *   so `mode=1777` holds.
 * /var/tmp is read-only and /run root-owned: the sandbox may write to /tmp and /workspace
 * only. They are mounted at all because Podman otherwise adds them unsized and writable.
 */
function tmpfsMounts(settings: HardeningSettings): Record<string, string> {
  const { uid, gid } = parseUser(settings.user);
  const base = (access: 'rw' | 'ro', sizeBytes: number) =>
    `${access},noexec,nosuid,nodev,size=${sizeBytes}`;
  const workspaceOwner = settings.engine === 'docker' ? `uid=${uid},gid=${gid}` : 'mode=1777';
  return {
    '/tmp': `${base('rw', settings.tmpSizeBytes)},mode=1777`,
    [WORKSPACE_DIR]: `${base('rw', settings.workspaceSizeBytes)},${workspaceOwner}`,
    '/run': `${base('rw', settings.runSizeBytes)},mode=0755`,
    '/var/tmp': `${base('ro', settings.varTmpSizeBytes)},mode=0755`,
  };
}

/** Whether the sandbox may write to a mount: only host folders the user marked rw. */
export function isWritableMount(mount: SandboxMount): boolean {
  return mount.hostFolder === true && mount.writable === true;
}

/**
 * Mounts (and, on Podman, the host folders as binds with nosuid,nodev,noexec: Podman 4.3
 * takes these options only in that spelling; Docker 20.10 refuses them there, "invalid
 * mode", and has no such field in Mounts). Security: nothing else the sandbox mounts is
 * writable (the package store is written by the installer container only).
 */
function engineMounts(settings: HardeningSettings): {
  mounts: Dockerode.MountSettings[];
  binds: string[];
} {
  const mounts: Dockerode.MountSettings[] = [];
  const binds: string[] = [];
  for (const sandboxMount of settings.mounts ?? []) {
    const readOnly = !isWritableMount(sandboxMount);
    const { mount } = sandboxMount;
    if (sandboxMount.hostFolder && settings.engine === 'podman') {
      binds.push(`${mount.Source}:${mount.Target}:${readOnly ? 'ro' : 'rw'},nosuid,nodev,noexec`);
    } else {
      mounts.push({ ...mount, ReadOnly: readOnly });
    }
  }
  return { mounts, binds };
}

/** Docker Engine API create options for the sandbox, with every hardening setting. */
export function buildContainerCreateOptions(
  settings: HardeningSettings,
): Dockerode.ContainerCreateOptions {
  checkSettings(settings);
  // Under gVisor the process limit takes another shape (gvisor-limits.ts).
  const limits = processLimits(settings);
  const hostConfig: Dockerode.HostConfig = {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    CapDrop: ['ALL'],
    // Bare, ":true" and "=true" all work on Docker 20.10 and Podman 4.3 (measured).
    SecurityOpt: ['no-new-privileges', seccompOption(settings)],
    Memory: settings.memoryBytes,
    // Security: swap limit = memory limit, i.e. no swap (Podman defaulted to 2x memory).
    MemorySwap: settings.memoryBytes,
    PidsLimit: limits.pidsLimit,
    Tmpfs: tmpfsMounts(settings),
    ShmSize: settings.shmSizeBytes,
    // A container's list replaces the engine's defaults (Podman's containers.conf
    // default_ulimits): always give all.
    Ulimits: [
      { Name: 'nofile', Soft: settings.nofile, Hard: settings.nofile },
      { Name: 'nproc', Soft: limits.nproc, Hard: limits.nproc },
      { Name: 'core', Soft: CORE_DUMP_LIMIT, Hard: CORE_DUMP_LIMIT },
      { Name: 'msgqueue', Soft: MESSAGE_QUEUE_LIMIT, Hard: MESSAGE_QUEUE_LIMIT },
    ],
    // Output travels over attach only; the default driver would copy it to an unbounded file.
    LogConfig: { Type: 'none', Config: {} },
    Init: true,
    IpcMode: 'private',
  };
  if (settings.ociRuntime) hostConfig.Runtime = settings.ociRuntime;
  if (settings.cpus !== undefined) hostConfig.NanoCpus = Math.round(settings.cpus * 1e9);
  const { mounts, binds } = engineMounts(settings);
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  if (binds.length > 0) hostConfig.Binds = binds;
  return {
    Image: settings.image,
    User: settings.user,
    WorkingDir: WORKSPACE_DIR,
    Env: [
      'PYTHONUNBUFFERED=1',
      'PYTHONIOENCODING=utf-8',
      'PYTHONDONTWRITEBYTECODE=1',
      `HOME=${WORKSPACE_DIR}`,
      // matplotlib wants a writable config dir and warns on every import without one.
      'MPLCONFIGDIR=/tmp/matplotlib',
    ],
    // [""] clears the image's entrypoint on both engines; Podman 4.3 ignores [] (measured).
    Entrypoint: [''],
    Cmd: [...settings.command],
    Labels: { ...settings.labels },
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: hostConfig,
  };
}
