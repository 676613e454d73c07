/**
 * Our own seccomp profile for the sandbox, in the Docker/OCI JSON format. Docker takes it
 * inline (`SecurityOpt: ["seccomp=" + JSON]`); Podman's compat API only as a file path
 * (see seccomp-file.ts).
 *
 * Source: moby `profiles/seccomp/default.json` (the version with the AF_VSOCK socket rule,
 * CAP_BPF/CAP_PERFMON groups and `name_to_handle_at` in the base list), restricted to what
 * a container with NO capabilities gets: every rule gated on `includes.caps` is dropped,
 * every rule gated on `excludes.caps` (clone, clone3) is kept. Default action: EPERM.
 *
 * Differences from Docker's default, each because a Python sandbox does not need it and
 * it has been kernel attack surface:
 * - `io_uring_setup/enter/register` denied (Docker ≥ 25 denies them too; older allowed).
 * - `ptrace`, `process_vm_readv/writev` denied (Docker allows them on kernels ≥ 4.8).
 * - `socket` only for AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK, `socketpair` only for
 *   AF_UNIX (Docker allows every family but AF_VSOCK); the rules compare only the low
 *   32 bits of the family (see `socketRules`), which Docker's `!= 40` rule does not.
 * - `inotify_*`, `fanotify_init` and `fanotify_mark` denied (Docker allows inotify to all,
 *   fanotify_init with CAP_SYS_ADMIN; Linux ≥ 5.13 lets anyone make a fanotify group):
 *   instances and watches are counted per user, and under rootless Podman the sandbox's
 *   are charged to the host user who runs it.
 * - `name_to_handle_at` denied (only useful with `open_by_handle_at`, denied anyway).
 * - `modify_ldt` denied (LDT segments: Wine/DOS emulation only).
 * - `mknod`/`mknodat` only for regular files, FIFOs and sockets, never device nodes (see
 *   `mknodRules`).
 * - `socketcall` dropped and the archMap lists no sub-architectures: 32-bit (x86, x32,
 *   arm) syscall entry points are rejected, so they cannot bypass the argument filters.
 * - Architectures other than x86_64 and aarch64 get no arch-specific rules.
 * Podman's own default profile is looser still: it allows unshare(CLONE_NEWUSER), keyctl
 * and socket(AF_VSOCK) (measured, Podman 4.3), which is why we never rely on the engine's
 * default.
 */

/** SCMP_ACT_TRACE: only in the gVisor variant (seccomp-gvisor.ts). */
export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE';
export type SeccompOperator = 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  index: number;
  /** For SCMP_CMP_MASKED_EQ: the mask; the rule matches when (arg & value) == valueTwo. */
  value: number;
  valueTwo: number;
  op: SeccompOperator;
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  /** Go architecture names (`amd64`, `arm64`) the rule applies to; absent = all. */
  includes?: { arches: string[] };
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet: number;
  archMap: { architecture: string; subArchitectures: string[] }[];
  syscalls: SeccompRule[];
}

export const EPERM = 1;
export const ENOSYS = 38;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_KEY = 15;
export const AF_ALG = 38;
export const AF_VSOCK = 40;
/** The only families `socket` may create (netlink: glibc's getifaddrs, if_nameindex). */
export const ALLOWED_SOCKET_FAMILIES: readonly number[] = [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK];
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET, as in Docker's profile. */
export const CLONE_NEW_MASK = 0x7e020000;

/** Docker's unconditional allow-list minus what is listed as removed in the header. */
const ALLOWED_SYSCALLS: readonly string[] = [
  ...['accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'capget', 'capset'],
  ...['chdir', 'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64'],
  ...['clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64'],
  ...['clock_nanosleep', 'clock_nanosleep_time64', 'close', 'close_range', 'connect'],
  ...['copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1'],
  ...['epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait'],
  ...['epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit', 'exit_group'],
  ...['faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate'],
  ...['fchdir', 'fchmod', 'fchmodat', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64'],
  ...['fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr', 'fsetxattr'],
  ...['fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate'],
  ...['ftruncate64', 'futex', 'futex_time64', 'futex_waitv', 'futimesat', 'getcpu', 'getcwd'],
  ...['getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid'],
  ...['getgid32', 'getgroups', 'getgroups32', 'getitimer', 'getpeername', 'getpgid'],
  ...['getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32'],
  ...['getresuid', 'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid'],
  ...['getsockname', 'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid'],
  ...['getuid32', 'getxattr'],
  ...['io_cancel', 'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents'],
  ...['io_pgetevents_time64', 'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'ipc'],
  ...['kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self'],
  ...['lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listen', 'listxattr', 'llistxattr'],
  ...['_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'madvise'],
  ...['membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat'],
  ...['mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect', 'mq_getsetattr'],
  ...['mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend'],
  ...['mq_timedsend_time64', 'mq_unlink', 'mremap', 'msgctl', 'msgget', 'msgrcv', 'msgsnd'],
  ...['msync', 'munlock', 'munlockall', 'munmap', 'nanosleep', 'newfstatat', '_newselect'],
  ...['open', 'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2'],
  ...['pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl'],
  ...['pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6'],
  ...['pselect6_time64', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink'],
  ...['readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg'],
  ...['remap_file_pages', 'removexattr', 'rename', 'renameat', 'renameat2', 'restart_syscall'],
  ...['rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo'],
  ...['rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64'],
  ...['rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr', 'sched_getparam'],
  ...['sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler'],
  ...['sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity'],
  ...['sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp'],
  ...['select', 'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send'],
  ...['sendfile', 'sendfile64', 'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32'],
  ...['setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setitimer'],
  ...['setpgid', 'setpriority', 'setregid', 'setregid32', 'setresgid', 'setresgid32'],
  ...['setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setrlimit', 'set_robust_list'],
  ...['setsid', 'setsockopt', 'set_thread_area', 'set_tid_address', 'setuid', 'setuid32'],
  ...['setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd'],
  ...['signalfd4', 'sigprocmask', 'sigreturn', 'splice', 'stat', 'stat64'],
  ...['statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range'],
  ...['syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete'],
  ...['timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime'],
  ...['timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64'],
  ...['timerfd_settime', 'timerfd_settime64', 'times', 'tkill', 'truncate', 'truncate64'],
  ...['ugetrlimit', 'umask', 'uname', 'unlink', 'unlinkat', 'utime', 'utimensat'],
  ...['utimensat_time64', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'waitpid', 'write'],
  'writev',
];

/** Docker's safe personality values: PER_LINUX, PER_LINUX32, UNAME26 (±32), and query. */
const PERSONALITY_VALUES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

function equals(index: number, value: number): SeccompArg {
  return { index, value, valueTwo: 0, op: 'SCMP_CMP_EQ' };
}

function maskedEquals(index: number, mask: number, expected: number): SeccompArg {
  return { index, value: mask, valueTwo: expected, op: 'SCMP_CMP_MASKED_EQ' };
}

/**
 * socket(): AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK only; socketpair(): AF_UNIX only
 * (the only family that pairs in a sandbox without network). Everything else, e.g.
 * AF_KEY, AF_TIPC, AF_CAN, AF_VSOCK, AF_ALG, is EPERM (the default action).
 * Security: the kernel reads the `int family` argument as 32 bits while seccomp compares
 * all 64 (Docker's deny rule `!= 40` let 0x1_0000_0028 through as AF_VSOCK). The mask
 * 0xffff_ffff makes the filter decide on the family the kernel will use, whatever the
 * upper half holds. Rules of one call are OR-ed.
 */
function socketRules(): SeccompRule[] {
  const family = (name: string, value: number): SeccompRule => ({
    names: [name],
    action: 'SCMP_ACT_ALLOW',
    args: [maskedEquals(0, 0xffffffff, value)],
    comment: `${name} family ${value}`,
  });
  return [
    ...ALLOWED_SOCKET_FAMILIES.map((value) => family('socket', value)),
    family('socketpair', AF_UNIX),
  ];
}

export const S_IFMT = 0o170000;
/** What mknod may make: regular files (type 0 means regular too), FIFOs and sockets. */
export const MKNOD_ALLOWED_TYPES: readonly number[] = [0, 0o100000, 0o010000, 0o140000];

/**
 * mknod/mknodat for MKNOD_ALLOWED_TYPES only: no character or block device nodes.
 * Security: Linux refuses device nodes to a sandbox without CAP_MKNOD anyway, but gVisor
 * runsc 20221219 (Debian 12) checks no capability and ignores `nodev`: a node made in
 * /tmp opens gVisor's devices (measured: 10:200, its tun). The file type lies in the low
 * 16 bits of the mode, which is all the kernel reads, so the mask decides on the type the
 * kernel will see whatever the upper bits hold.
 */
function mknodRules(): SeccompRule[] {
  const modeArgument = { mknod: 1, mknodat: 2 };
  return Object.entries(modeArgument).flatMap(([name, index]) =>
    MKNOD_ALLOWED_TYPES.map((type): SeccompRule => ({
      names: [name],
      action: 'SCMP_ACT_ALLOW',
      args: [maskedEquals(index, S_IFMT, type)],
      comment: `${name} file type 0o${type.toString(8)}`,
    })),
  );
}

/** Builds the profile; a fresh object each call, so callers may not share mutations. */
export function buildSeccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    // Security: no subArchitectures, so 32-bit/x32 syscalls never match an allow rule.
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: [] },
    ],
    syscalls: [
      { names: [...ALLOWED_SYSCALLS], action: 'SCMP_ACT_ALLOW' },
      ...socketRules(),
      ...mknodRules(),
      ...PERSONALITY_VALUES.map((value): SeccompRule => ({
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [equals(0, value)],
      })),
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      {
        names: [
          ...['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint'],
          ...['cacheflush', 'set_tls'],
        ],
        action: 'SCMP_ACT_ALLOW',
        includes: { arches: ['arm64'] },
      },
      {
        // Security: threads and fork, never a new namespace (no CAP_SYS_ADMIN rule here).
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [maskedEquals(0, CLONE_NEW_MASK, 0)],
        comment: 'clone without CLONE_NEW* flags',
      },
      {
        // clone3 passes its flags in memory, which seccomp cannot inspect: ENOSYS makes
        // glibc fall back to clone, whose flags the rule above checks.
        names: ['clone3'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: ENOSYS,
        comment: 'clone3 flags are not inspectable; glibc falls back to clone',
      },
    ],
  };
}

/** The profile as engines read it (Docker inline after `seccomp=`, Podman from a file). */
export function seccompProfileJson(profile: SeccompProfile = buildSeccompProfile()): string {
  return JSON.stringify(profile);
}
