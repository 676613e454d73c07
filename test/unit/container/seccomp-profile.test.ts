import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeSeccompProfileFile } from '../../../src/container/seccomp-file.js';
import {
  ALLOWED_SOCKET_FAMILIES,
  AF_UNIX,
  CLONE_NEW_MASK,
  EPERM,
  ENOSYS,
  MKNOD_ALLOWED_TYPES,
  S_IFMT,
  buildSeccompProfile,
  seccompProfileJson,
  type SeccompProfile,
} from '../../../src/container/seccomp-profile.js';
import { deniedSyscallProbes } from '../../support/denied-syscall-probes.js';

// SCMP_ACT_TRACE (gVisor's variant only) answers ENOSYS when no tracer is attached.
type Verdict =
  { action: 'SCMP_ACT_ALLOW' } | { action: 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE'; errno: number };

const U64 = (1n << 64n) - 1n;
const u64 = (value: number | bigint): bigint => BigInt(value) & U64;

/**
 * What libseccomp (through runc) decides for one call, for the subset of the format we
 * use: rules for the call's name whose arches include `arch` are OR-ed, a rule's
 * conditions are AND-ed, otherwise the default action applies.
 */
function decide(
  profile: SeccompProfile,
  arch: string,
  name: string,
  args: (number | bigint)[] = [],
): Verdict {
  const rules = profile.syscalls.filter(
    (rule) => rule.names.includes(name) && (!rule.includes || rule.includes.arches.includes(arch)),
  );
  for (const rule of rules) {
    const matches = (rule.args ?? []).every((condition) => {
      const arg = u64(args[condition.index] ?? 0);
      if (condition.op === 'SCMP_CMP_EQ') return arg === u64(condition.value);
      return (arg & u64(condition.value)) === u64(condition.valueTwo);
    });
    if (!matches) continue;
    return rule.action === 'SCMP_ACT_ALLOW'
      ? { action: rule.action }
      : { action: rule.action, errno: rule.errnoRet ?? profile.defaultErrnoRet };
  }
  return { action: 'SCMP_ACT_ERRNO', errno: profile.defaultErrnoRet };
}

const allowed: Verdict = { action: 'SCMP_ACT_ALLOW' };
const eperm: Verdict = { action: 'SCMP_ACT_ERRNO', errno: EPERM };

describe('buildSeccompProfile', () => {
  const profile = buildSeccompProfile();

  it('denies by default with EPERM', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(profile.defaultErrnoRet).toBe(EPERM);
    expect(decide(profile, 'amd64', 'no_such_call')).toEqual(eperm);
  });

  it('has no capability-gated rules and no 32-bit sub-architectures', () => {
    expect(seccompProfileJson(profile)).not.toMatch(/"caps"|"excludes"|"minKernel"/);
    for (const entry of profile.archMap) expect(entry.subArchitectures).toEqual([]);
    const arches = profile.syscalls.flatMap((rule) => rule.includes?.arches ?? []);
    expect(new Set(arches)).toEqual(new Set(['amd64', 'arm64']));
    expect(decide(profile, 'amd64', 'socketcall')).toEqual(eperm);
  });

  it('never puts two conditions on one argument in a rule (runc would OR them)', () => {
    for (const rule of profile.syscalls) {
      const indexes = (rule.args ?? []).map((condition) => condition.index);
      expect(new Set(indexes).size).toBe(indexes.length);
    }
  });

  it('gives every call one action, so rule order cannot matter', () => {
    const actions = new Map<string, Set<string>>();
    for (const rule of profile.syscalls) {
      for (const name of rule.names)
        actions.set(name, (actions.get(name) ?? new Set()).add(rule.action));
    }
    for (const [, set] of actions) expect(set.size).toBe(1);
  });

  it('refuses every probe with the errno the probe expects', () => {
    const probes = deniedSyscallProbes();
    expect(probes.length).toBeGreaterThan(30);
    for (const probe of probes) {
      expect(decide(profile, 'amd64', probe.syscall, [...probe.args]), probe.label).toEqual({
        action: 'SCMP_ACT_ERRNO',
        errno: probe.errno,
      });
    }
  });

  it('denies everything Docker denies a container without capabilities, and more', () => {
    const denied = [
      ...['acct', 'add_key', 'bpf', 'chroot', 'clock_settime', 'delete_module', 'fanotify_init'],
      ...[
        'finit_module',
        'fsconfig',
        'fsmount',
        'fsopen',
        'fspick',
        'get_mempolicy',
        'init_module',
      ],
      ...['ioperm', 'iopl', 'kcmp', 'kexec_file_load', 'kexec_load', 'keyctl', 'lookup_dcookie'],
      ...['mbind', 'mount', 'mount_setattr', 'move_mount', 'move_pages', 'nfsservctl'],
      ...['open_by_handle_at', 'open_tree', 'perf_event_open', 'pidfd_getfd', 'pivot_root'],
      ...['process_madvise', 'quotactl', 'quotactl_fd', 'reboot', 'request_key', 'set_mempolicy'],
      ...['setdomainname', 'sethostname', 'setns', 'settimeofday', 'swapoff', 'swapon', 'syslog'],
      ...['umount', 'umount2', 'unshare', 'uselib', 'userfaultfd', 'ustat', 'vhangup', 'vm86'],
      // Beyond Docker's default:
      ...['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'ptrace', 'process_vm_readv'],
      ...['process_vm_writev', 'name_to_handle_at', 'modify_ldt', 'socketcall', 'inotify_init1'],
    ];
    for (const name of denied) expect(decide(profile, 'amd64', name), name).toEqual(eperm);
  });

  it('allows what ordinary Python needs', () => {
    const plain = ['read', 'write', 'openat', 'close', 'mmap', 'futex', 'execve', 'wait4'];
    for (const name of [...plain, 'epoll_wait', 'getrandom', 'rseq', 'statx']) {
      expect(decide(profile, 'amd64', name), name).toEqual(allowed);
    }
    expect(decide(profile, 'amd64', 'arch_prctl')).toEqual(allowed);
    expect(decide(profile, 'arm64', 'arch_prctl')).toEqual(eperm);
    // pthread_create and fork/vfork flags.
    expect(decide(profile, 'amd64', 'clone', [0x3d0f00])).toEqual(allowed);
    expect(decide(profile, 'amd64', 'clone', [0x01200011])).toEqual(allowed);
    expect(decide(profile, 'amd64', 'clone', [0x4111])).toEqual(allowed);
    expect(decide(profile, 'amd64', 'personality', [0xffffffff])).toEqual(allowed);
    expect(decide(profile, 'amd64', 'personality', [0])).toEqual(allowed);
  });

  it('refuses clone with any CLONE_NEW* flag and answers clone3 with ENOSYS', () => {
    for (let bit = 0; bit < 32; bit++) {
      const flag = 2 ** bit;
      if ((CLONE_NEW_MASK & flag) === 0) continue;
      expect(decide(profile, 'amd64', 'clone', [flag | 0x11])).toEqual(eperm);
    }
    expect(decide(profile, 'amd64', 'clone3', [0, 88])).toEqual({
      action: 'SCMP_ACT_ERRNO',
      errno: ENOSYS,
    });
  });

  it('allows only AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK sockets, on the low 32 bits', () => {
    expect(ALLOWED_SOCKET_FAMILIES).toEqual([1, 2, 10, 16]);
    for (let family = 0; family < 64; family++) {
      const expected = ALLOWED_SOCKET_FAMILIES.includes(family) ? allowed : eperm;
      expect(decide(profile, 'amd64', 'socket', [family, 1, 0]), `family ${family}`).toEqual(
        expected,
      );
      // The kernel truncates `int family`: the filter must see the same family.
      const high = (1n << 32n) + BigInt(family);
      expect(decide(profile, 'amd64', 'socket', [high, 1, 0]), `family ${family} + 2^32`).toEqual(
        expected,
      );
    }
    for (const family of [-1, 0xffff, 2 ** 31, 2 ** 32 - 1])
      expect(decide(profile, 'amd64', 'socket', [family, 1, 0]), `family ${family}`).toEqual(eperm);
  });

  it('pairs AF_UNIX sockets only', () => {
    expect(decide(profile, 'amd64', 'socketpair', [AF_UNIX, 1, 0, 0])).toEqual(allowed);
    expect(decide(profile, 'amd64', 'socketpair', [(1n << 32n) + 1n, 1, 0, 0])).toEqual(allowed);
    for (const family of [0, 2, 10, 16, 30, 40])
      expect(decide(profile, 'amd64', 'socketpair', [family, 1, 0, 0]), `family ${family}`).toEqual(
        eperm,
      );
  });

  it('lets mknod make regular files, FIFOs and sockets, never device nodes', () => {
    const S_IFCHR = 0o020000;
    const S_IFBLK = 0o060000;
    const S_IFIFO = 0o010000;
    expect(MKNOD_ALLOWED_TYPES).toEqual([0, 0o100000, S_IFIFO, 0o140000]);
    for (const [name, mode] of [
      ['mknod', 1],
      ['mknodat', 2],
    ] as const) {
      const args = (value: number | bigint) => {
        const all: (number | bigint)[] = [-100, 0, 0, 0];
        all[mode] = value;
        return all;
      };
      for (let type = 0; type <= S_IFMT; type += 0o010000) {
        const expected = MKNOD_ALLOWED_TYPES.includes(type) ? allowed : eperm;
        expect(
          decide(profile, 'amd64', name, args(type | 0o666)),
          `${name} 0o${type.toString(8)}`,
        ).toEqual(expected);
      }
      // The kernel reads a 16-bit mode: upper bits cannot turn a device into a FIFO.
      expect(decide(profile, 'amd64', name, args((1n << 32n) + BigInt(S_IFCHR | 0o666)))).toEqual(
        eperm,
      );
      expect(decide(profile, 'amd64', name, args(S_IFBLK | 0o660))).toEqual(eperm);
      expect(decide(profile, 'amd64', name, args(0o777 | 0x10000 | S_IFIFO))).toEqual(allowed);
    }
  });

  it('refuses inotify and fanotify', () => {
    for (const name of ['inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch'])
      expect(decide(profile, 'amd64', name), name).toEqual(eperm);
    for (const name of ['fanotify_init', 'fanotify_mark'])
      expect(decide(profile, 'amd64', name), name).toEqual(eperm);
  });

  it('returns a fresh, deterministic profile each time', () => {
    const first = buildSeccompProfile();
    first.syscalls.length = 0;
    expect(seccompProfileJson(buildSeccompProfile())).toBe(seccompProfileJson(profile));
  });
});

describe('deniedSyscallProbes', () => {
  it('has unique labels, x86_64 numbers and at most six arguments', () => {
    const probes = deniedSyscallProbes();
    expect(new Set(probes.map((probe) => probe.label)).size).toBe(probes.length);
    for (const probe of probes) {
      expect(probe.numbers.x86_64, probe.label).toEqual(expect.any(Number));
      expect(probe.args.length).toBeLessThanOrEqual(6);
    }
    const labels = probes.map((probe) => probe.label).join('\n');
    for (const name of ['unshare', 'keyctl', 'mount', 'ptrace', 'bpf', 'perf_event_open']) {
      expect(labels).toContain(`${name}(`);
    }
    for (const name of [
      'userfaultfd',
      'open_by_handle_at',
      'io_uring_setup',
      'socket(AF_VSOCK)',
      'socket(AF_ALG)',
      'socket(AF_KEY)',
      'socketpair(AF_INET',
      'inotify_init1(',
      'fanotify_init(',
    ]) {
      expect(labels).toContain(name);
    }
  });
});

describe('writeSeccompProfileFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the profile under a content-hash name and reuses it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seccomp-test-'));
    dirs.push(dir);
    const file = writeSeccompProfileFile(path.join(dir, 'state'));
    expect(path.basename(file)).toMatch(/^seccomp-[0-9a-f]{16}\.json$/);
    expect(readFileSync(file, 'utf8')).toBe(seccompProfileJson(buildSeccompProfile()));
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(statSync(path.join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(writeSeccompProfileFile(path.join(dir, 'state'))).toBe(file);
  });
});
