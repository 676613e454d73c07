import {
  AF_ALG,
  AF_INET,
  AF_KEY,
  AF_VSOCK,
  ENOSYS,
  EPERM,
} from '../../src/container/seccomp-profile.js';

/**
 * One call our profile must refuse, with arguments that are harmless should it ever be
 * allowed (bad pointers, bad fds, invalid flag combinations). The engine tests run them to
 * show the profile really is in force; the unit test checks the profile refuses each.
 */
export interface DeniedSyscallProbe {
  /** For messages, e.g. "socket(AF_VSOCK)". */
  label: string;
  syscall: string;
  /** Syscall numbers; null where the architecture has no such call. */
  numbers: { x86_64: number | null; aarch64: number | null };
  args: readonly number[];
  /** What our profile answers: EPERM, or ENOSYS for clone3. */
  errno: number;
  /**
   * Measured: without any seccomp filter these arguments give another result (success or
   * another errno), so `errno` proves the filter. False where a capability check would
   * answer EPERM too (the probe then only shows the call stays refused).
   */
  filterOnly: boolean;
}

const probe = (
  label: string,
  syscall: string,
  x86_64: number | null,
  aarch64: number | null,
  args: readonly number[],
  filterOnly: boolean,
  errno: number = EPERM,
): DeniedSyscallProbe => ({
  label,
  syscall,
  numbers: { x86_64, aarch64 },
  args,
  errno,
  filterOnly,
});

/** The calls we test as denied (a new array each call). */
export function deniedSyscallProbes(): DeniedSyscallProbe[] {
  return [
    probe('unshare(CLONE_NEWUSER)', 'unshare', 272, 97, [0x10000000], true),
    probe('setns(-1, 0)', 'setns', 308, 268, [-1, 0], true),
    probe('clone(CLONE_NEWUSER|CLONE_FS)', 'clone', 56, 220, [0x10000200, 0, 0, 0, 0], true),
    probe('clone3(NULL, 0)', 'clone3', 435, 435, [0, 0], true, ENOSYS),
    probe('keyctl(GET_KEYRING_ID, SESSION)', 'keyctl', 250, 219, [0, -3, 0], true),
    probe('add_key(NULL, …)', 'add_key', 248, 217, [0, 0, 0, 0, 0], true),
    probe('request_key(NULL, …)', 'request_key', 249, 218, [0, 0, 0, 0], true),
    probe('mount(NULL, NULL, …)', 'mount', 165, 40, [0, 0, 0, 0, 0], true),
    probe('umount2(NULL, -1)', 'umount2', 166, 39, [0, -1], true),
    probe('pivot_root(NULL, NULL)', 'pivot_root', 155, 41, [0, 0], false),
    probe('fsopen(NULL, 0)', 'fsopen', 430, 430, [0, 0], false),
    probe('fsmount(-1, 0, 0)', 'fsmount', 432, 432, [-1, 0, 0], false),
    probe('move_mount(-1, …, -1)', 'move_mount', 429, 429, [-1, 0, -1, 0, -1], false),
    probe('open_tree(-1, NULL, -1)', 'open_tree', 428, 428, [-1, 0, -1], true),
    probe('ptrace(PEEKUSER, no such pid)', 'ptrace', 101, 117, [3, 0x7fffffff, 0, 0], true),
    probe('process_vm_readv(bad flags)', 'process_vm_readv', 310, 270, [0, 0, 0, 0, 0, 1], true),
    probe('process_vm_writev(bad flags)', 'process_vm_writev', 311, 271, [0, 0, 0, 0, 0, 1], true),
    probe('bpf(-1, NULL, 0)', 'bpf', 321, 280, [-1, 0, 0], true),
    probe('perf_event_open(NULL, …)', 'perf_event_open', 298, 241, [0, 0, -1, -1, 0], true),
    probe('userfaultfd(bad flags)', 'userfaultfd', 323, 282, [0x3], true),
    probe('open_by_handle_at(-1, NULL)', 'open_by_handle_at', 304, 265, [-1, 0, 0], true),
    probe('name_to_handle_at(-1, NULL)', 'name_to_handle_at', 303, 264, [-1, 0, 0, 0, 0], true),
    probe('kexec_load(…)', 'kexec_load', 246, 104, [0, 0, 0, 0], false),
    probe('kexec_file_load(-1, -1)', 'kexec_file_load', 320, 294, [-1, -1, 0, 0, 0], false),
    probe('init_module(NULL, 0)', 'init_module', 175, 105, [0, 0, 0], false),
    probe('finit_module(-1)', 'finit_module', 313, 273, [-1, 0, 0], false),
    probe('delete_module(NULL)', 'delete_module', 176, 106, [0, 0], false),
    probe('io_uring_setup(1, NULL)', 'io_uring_setup', 425, 425, [1, 0], true),
    probe('io_uring_enter(-1, …)', 'io_uring_enter', 426, 426, [-1, 0, 0, 0, 0, 0], true),
    probe('io_uring_register(-1, …)', 'io_uring_register', 427, 427, [-1, 0, 0, 0], true),
    probe('personality(ADDR_NO_RANDOMIZE)', 'personality', 135, 92, [0x0040000], true),
    probe('socket(AF_VSOCK)', 'socket', 41, 198, [AF_VSOCK, 1, 0], true),
    probe('socket(AF_VSOCK) high bits set', 'socket', 41, 198, [2 ** 32 + AF_VSOCK, 1, 0], true),
    probe('socket(AF_ALG)', 'socket', 41, 198, [AF_ALG, 5, 0], true),
    // Families the kernel may or may not have (here: not built, so EAFNOSUPPORT unfiltered).
    probe('socket(AF_KEY)', 'socket', 41, 198, [AF_KEY, 3, 2], true),
    probe('socket(AF_KEY) high bits set', 'socket', 41, 198, [2 ** 32 + AF_KEY, 3, 2], true),
    probe('socket(AF_CAN)', 'socket', 41, 198, [29, 2, 1], true),
    probe('socket(AF_TIPC)', 'socket', 41, 198, [30, 2, 0], true),
    probe('socket(AF_BLUETOOTH)', 'socket', 41, 198, [31, 1, 0], true),
    probe('socket(AF_QIPCRTR)', 'socket', 41, 198, [42, 2, 0], true),
    probe('socket(AF_SMC)', 'socket', 41, 198, [43, 1, 0], true),
    // Families that need CAP_NET_RAW: refused without the filter too.
    probe('socket(AF_PACKET)', 'socket', 41, 198, [17, 3, 0], false),
    probe('socket(AF_XDP)', 'socket', 41, 198, [44, 3, 0], false),
    // The kernel: EFAULT for the NULL result pointer (after EOPNOTSUPP checks on some).
    probe('socketpair(AF_INET, NULL)', 'socketpair', 53, 199, [AF_INET, 1, 0, 0], true),
    probe('inotify_init()', 'inotify_init', 253, null, [], true),
    probe('inotify_init1(IN_CLOEXEC)', 'inotify_init1', 294, 26, [0o2000000], true),
    // FAN_CLASS_NOTIF | FAN_REPORT_FID: allowed to unprivileged users since Linux 5.13.
    probe('fanotify_init(FAN_REPORT_FID)', 'fanotify_init', 300, 262, [0x200, 0], true),
    probe('chroot(NULL)', 'chroot', 161, 51, [0], true),
    probe('kcmp(no such pid)', 'kcmp', 312, 272, [0x7fffffff, 0x7fffffff, 0, 0, 0], true),
    probe('pidfd_getfd(-1, -1)', 'pidfd_getfd', 438, 438, [-1, -1, 0], true),
    probe('modify_ldt(0, NULL, 0)', 'modify_ldt', 154, null, [0, 0, 0], true),
  ];
}
