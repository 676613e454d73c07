import type { MountFact, SandboxFacts } from '../channel/frames.js';
import { formatByteSize } from '../config/byte-size.js';
import { expectedFacts, type ExpectedFacts, type ExpectedTmpfs } from './expected-facts.js';
import { isWritableMount, type HardeningSettings } from './hardening.js';
import {
  checkAmbientCaps,
  checkGvisorLimits,
  checkGvisorShm,
  checkKernel,
} from './verify-gvisor.js';

/**
 * Read-write mounts that are normal in a container on Docker 20.10 and Podman 4.3 and
 * harmless for a non-root user without capabilities: root-owned 0755 /dev and cgroup
 * tmpfs, the IPC and pty filesystems, /proc (sensitive parts are masked or read-only).
 */
const ENGINE_RW_MOUNTS: Readonly<Record<string, readonly string[]>> = {
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
  '/dev/shm': ['tmpfs'],
  '/dev/mqueue': ['mqueue'],
  '/proc': ['proc'],
  '/sys/fs/cgroup': ['tmpfs'],
};

/** Under gVisor, /dev/shm is the engine's tmpfs seen through gVisor's file proxy (9p). */
const GVISOR_RW_MOUNTS: Readonly<Record<string, readonly string[]>> = {
  ...ENGINE_RW_MOUNTS,
  '/dev/shm': ['tmpfs', '9p'],
};

/** Per-container files the engine writes; some engine versions bind them read-write. */
const ENGINE_FILES = new Set([
  '/etc/hosts',
  '/etc/hostname',
  '/etc/resolv.conf',
  '/run/.containerenv',
]);

/** The masks engines put over /proc entries are /dev/null binds (tmpfs) or proc itself. */
const PROC_MASK_FSTYPES = new Set(['proc', 'tmpfs', 'devtmpfs']);

function isReadOnly(mount: MountFact): boolean {
  // Per-mount or superblock "ro": either makes the mount read-only.
  return mount.options.includes('ro');
}

function hasAll(mount: MountFact, flags: readonly string[]): boolean {
  return flags.every((flag) => mount.options.includes(flag));
}

/** tmpfs `size=` option in bytes (the kernel prints "65536k"); undefined when absent. */
export function tmpfsSizeBytes(mount: MountFact): number | undefined {
  for (const option of mount.options) {
    const match = /^size=(\d+)([kmg]?)$/i.exec(option);
    if (!match) continue;
    const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()];
    return Number(match[1]) * (unit ?? 1);
  }
  return undefined;
}

/** The mount a path shows: the last one listed for that target (later mounts cover). */
function visibleMounts(mounts: readonly MountFact[]): Map<string, MountFact> {
  const byTarget = new Map<string, MountFact>();
  for (const mount of mounts) byTarget.set(mount.target, mount);
  return byTarget;
}

/** Tolerance for sizes the kernel rounds up to whole pages (up to 64 KiB pages). */
const PAGE_SLACK = 64 * 1024;

function checkTmpfs(
  label: string,
  mount: MountFact | undefined,
  expected: Pick<ExpectedTmpfs, 'sizeBytes' | 'readWrite'>,
  flags: readonly string[],
): string[] {
  if (!mount)
    return [`${label} is not mounted (expected a ${formatByteSize(expected.sizeBytes)} tmpfs)`];
  const problems: string[] = [];
  if (mount.fstype !== 'tmpfs' || !hasAll(mount, flags)) {
    problems.push(
      `${label} is not a tmpfs with ${flags.join(',')} (${mount.fstype}: ${mount.options.join(',')})`,
    );
  }
  const size = tmpfsSizeBytes(mount);
  if (size === undefined) problems.push(`${label} has no size limit`);
  else if (size > expected.sizeBytes + PAGE_SLACK) {
    problems.push(
      `${label} is ${formatByteSize(size)}, expected at most ${formatByteSize(expected.sizeBytes)}`,
    );
  }
  if (!expected.readWrite && !isReadOnly(mount))
    problems.push(`${label} is writable, expected read-only`);
  return problems;
}

/**
 * The flags a host folder must show: what Podman was asked for (as gVisor shows its
 * mounts: noexec alone); Docker takes no flags for binds, and no-new-privileges and the
 * empty capability sets make set-uid files and device nodes inert there.
 */
function hostFolderFlags(settings: HardeningSettings, expected: ExpectedFacts): readonly string[] {
  return settings.engine === 'podman' ? expected.tmpfsFlags : [];
}

function checkMounts(
  facts: SandboxFacts,
  expected: ExpectedFacts,
  settings: HardeningSettings,
): string[] {
  const visible = visibleMounts(facts.mounts);
  const problems: string[] = [];
  const root = visible.get('/');
  if (!root) problems.push('root filesystem: no mount for / in mountinfo');
  else if (!isReadOnly(root)) problems.push('root filesystem is writable');
  for (const tmpfs of expected.tmpfs) {
    problems.push(
      ...checkTmpfs(tmpfs.target, visible.get(tmpfs.target), tmpfs, expected.tmpfsFlags),
    );
  }
  const shm = visible.get('/dev/shm');
  problems.push(
    ...(expected.kernel === 'gvisor'
      ? checkGvisorShm(shm, facts, expected.shmSizeBytes)
      : checkTmpfs(
          '/dev/shm',
          shm,
          { sizeBytes: expected.shmSizeBytes, readWrite: true },
          expected.tmpfsFlags,
        )),
  );

  // The mounts we asked for (e.g. the package store) must be there, read-only unless a
  // host folder the user marked rw; host folders with the flags the engine applies.
  const asked = new Set<string>();
  for (const sandboxMount of settings.mounts ?? []) {
    const { name, mount } = sandboxMount;
    asked.add(mount.Target);
    const seen = visible.get(mount.Target);
    if (!seen) {
      problems.push(`${name} is not mounted at ${mount.Target}`);
      continue;
    }
    if (!isWritableMount(sandboxMount) && !isReadOnly(seen))
      problems.push(`${name} ${mount.Target} is writable, expected read-only`);
    const flags = sandboxMount.hostFolder ? hostFolderFlags(settings, expected) : [];
    if (!hasAll(seen, flags))
      problems.push(
        `${name} ${mount.Target} is not mounted ${flags.join(',')} (${seen.options.join(',')})`,
      );
  }

  const engineRw = expected.kernel === 'gvisor' ? GVISOR_RW_MOUNTS : ENGINE_RW_MOUNTS;
  const ours = new Set(expected.tmpfs.filter((t) => t.readWrite).map((t) => t.target));
  for (const [target, mount] of visible) {
    if (target === '/' || isReadOnly(mount) || ours.has(target) || ENGINE_FILES.has(target))
      continue;
    if (asked.has(target)) continue; // reported above
    if (engineRw[target]?.includes(mount.fstype)) continue;
    if (target.startsWith('/proc/') && PROC_MASK_FSTYPES.has(mount.fstype)) continue;
    problems.push(`writable mount ${target} (${mount.fstype}) that we did not ask for`);
  }
  return problems;
}

const CAPABILITY_SETS = [
  ['effective', 'capEff'],
  ['permitted', 'capPrm'],
  ['bounding', 'capBnd'],
  ['ambient', 'capAmb'],
  ['inheritable', 'capInh'],
] as const;

function checkIdentity(facts: SandboxFacts, expected: ExpectedFacts): string[] {
  const problems: string[] = [];
  if (facts.uid !== expected.uid)
    problems.push(`user: expected uid ${expected.uid}, sandbox runs as uid ${facts.uid}`);
  if (facts.gid !== expected.gid)
    problems.push(`group: expected gid ${expected.gid}, sandbox runs as gid ${facts.gid}`);
  if (facts.uids.some((id) => id !== expected.uid))
    problems.push(`user: real, effective and saved uids are ${facts.uids.join(', ')}`);
  if (facts.gids.some((id) => id !== expected.gid))
    problems.push(`group: real, effective and saved gids are ${facts.gids.join(', ')}`);
  const extra = facts.groups.filter((group) => group !== expected.gid);
  if (extra.length > 0)
    problems.push(`supplementary groups [${extra.join(', ')}] besides gid ${expected.gid}`);
  // Security: root and root's group are refused whatever the settings say.
  if ([facts.uid, ...facts.uids].includes(0)) problems.push('user: the sandbox runs as root');
  if ([facts.gid, ...facts.gids, ...facts.groups].includes(0))
    problems.push("group: the sandbox runs in root's group (gid 0)");
  problems.push(...checkAmbientCaps(facts, expected));
  for (const [name, field] of CAPABILITY_SETS) {
    const value = facts[field];
    if (value === null) continue; // a missing ambient set: checkAmbientCaps
    if (!/^[0-9a-f]+$/i.test(value) || /[1-9a-f]/i.test(value)) {
      problems.push(`capabilities: ${name} set is ${value}, expected none`);
    }
  }
  if (facts.noNewPrivs !== 1) problems.push('no_new_privs is not set');
  if (facts.seccomp !== 2) {
    // runsc applies the container's profile only when registered with --oci-seccomp.
    const hint = expected.kernel === 'gvisor' ? ': register runsc with --oci-seccomp' : '';
    problems.push(`seccomp filter not active (mode ${facts.seccomp})${hint}`);
  }
  return problems;
}

function checkLimit(
  name: string,
  actual: number | null,
  max: number,
  format: (n: number) => string,
): string[] {
  if (actual === null)
    return [`${name}: expected ${format(max)}, cgroup says unlimited (or unreadable)`];
  if (actual > max) return [`${name}: expected ${format(max)}, cgroup says ${format(actual)}`];
  return [];
}

function checkRlimit(name: string, actual: number | null, max: number): string[] {
  // null: unreadable, reported in facts.errors by the sandbox; negative: RLIM_INFINITY.
  if (actual === null) return [];
  if (actual < 0) return [`${name} rlimit: expected ${max}, sandbox has unlimited`];
  if (actual > max) return [`${name} rlimit: expected ${max}, sandbox has ${actual}`];
  return [];
}

/** A limit whose soft and hard values must both be `expected` (user code may raise soft). */
function checkSoftAndHard(
  name: string,
  why: string,
  limits: [number, number] | null,
  expected: number,
): string[] {
  // null: unreadable, reported in facts.errors by the sandbox.
  if (limits === null) return [];
  const [soft, hard] = limits.map((value) => (value < 0 ? 'unlimited' : String(value)));
  if (limits[0] === expected && limits[1] === expected) return [];
  return [`${name} rlimit: expected ${expected} (${why}), sandbox has soft ${soft}, hard ${hard}`];
}

function checkResources(facts: SandboxFacts, expected: ExpectedFacts): string[] {
  const limits =
    expected.kernel === 'gvisor'
      ? checkGvisorLimits(facts, expected)
      : [
          ...checkLimit(
            'memory limit',
            facts.memoryLimitBytes,
            expected.memoryLimitBytes,
            formatByteSize,
          ),
          ...checkLimit('pids limit', facts.pidsLimit, expected.pidsLimit, String),
        ];
  const problems = [
    ...limits,
    ...checkRlimit('nofile', facts.rlimitNofile, expected.rlimitNofile),
    ...checkRlimit('nproc', facts.rlimitNproc, expected.rlimitNproc),
    ...checkSoftAndHard('core', 'no core dumps', facts.rlimitCore, expected.rlimitCore),
    ...checkSoftAndHard(
      'msgqueue',
      'no message queues',
      facts.rlimitMsgqueue,
      expected.rlimitMsgqueue,
    ),
  ];
  // cgroup v1 reports memory+swap (= memory when there is no swap), v2 swap alone (0).
  // null (swap accounting off, or v2 "max") cannot be told apart from unreadable: skipped.
  const swap = facts.memorySwapLimitBytes;
  if (swap !== null && swap > expected.memoryLimitBytes) {
    problems.push(
      `swap: limit is ${formatByteSize(swap)}, expected no swap beyond the ${formatByteSize(expected.memoryLimitBytes)} memory limit`,
    );
  }
  const extraInterfaces = facts.netInterfaces.filter(
    (name) => !expected.netInterfaces.includes(name),
  );
  if (extraInterfaces.length > 0) {
    problems.push(`network: interfaces [${facts.netInterfaces.join(', ')}] besides lo`);
  }
  if (facts.cwd !== expected.cwd)
    problems.push(`working directory is ${facts.cwd}, expected ${expected.cwd}`);
  if (facts.home !== expected.home)
    problems.push(`HOME is ${facts.home ?? 'unset'}, expected ${expected.home}`);
  return problems;
}

/**
 * Compares what the sandbox reports about itself with what we asked the engine for.
 * Returns one human-readable problem per setting that did not take; empty = all good.
 * Security: called before any user code runs; any problem means the sandbox is not used.
 */
export function verifyHardening(facts: SandboxFacts, settings: HardeningSettings): string[] {
  const expected = expectedFacts(settings);
  // Under the wrong runtime the other checks measure against the wrong expectations:
  // that one problem says it all.
  const runtime = checkKernel(facts, expected);
  if (runtime.length > 0) return runtime;
  return [
    // Security: a fact the sandbox could not read cannot be trusted to show a setting took.
    ...facts.errors.map((error) => `the sandbox could not check its confinement: ${error}`),
    ...checkIdentity(facts, expected),
    ...checkMounts(facts, expected, settings),
    ...checkResources(facts, expected),
  ];
}
