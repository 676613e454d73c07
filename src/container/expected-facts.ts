import { processLimits } from './gvisor-limits.js';
import {
  CORE_DUMP_LIMIT,
  MESSAGE_QUEUE_LIMIT,
  parseUser,
  WORKSPACE_DIR,
  type HardeningSettings,
} from './hardening.js';

/**
 * What gVisor's kernel prints as its version, whatever the host runs: `uname -v` and
 * `/proc/version` (runsc 20221219 here; later releases keep it and name themselves in the
 * release, e.g. "4.19.0-gvisor"). No Linux kernel build carries this string.
 */
export const GVISOR_KERNEL_VERSION = '#1 SMP Sun Jan 10 15:06:54 PST 2016';

/** Whether the kernel the sandbox reports is gVisor's (runsc) rather than the host's. */
export function isGvisorKernel(kernel: { release: string; version: string } | null): boolean {
  if (!kernel) return false;
  return kernel.version === GVISOR_KERNEL_VERSION || /gvisor/i.test(kernel.release);
}

export interface ExpectedTmpfs {
  target: string;
  sizeBytes: number;
  /** False: mounted read-only (/var/tmp); /run is rw but root-owned 0755. */
  readWrite: boolean;
}

/** What the sandbox should report about itself (docs/protocol.md `facts`). */
export interface ExpectedFacts {
  /**
   * `gvisor` when the sandbox must run under runsc (MCP_BRIDGE_OCI_RUNTIME=runsc), else
   * `host`: the kernel the sandbox must report. Under gVisor some settings show
   * differently from inside; verifyHardening checks each the way gVisor can show it.
   */
  kernel: 'host' | 'gvisor';
  /**
   * Flags every tmpfs of ours must show. gVisor's mounts have no nosuid/nodev flags at all
   * (its mount flags are ro and noexec); what they guard against needs a capability or
   * a privilege gain, and the verified empty capability sets and no_new_privs rule both out.
   */
  tmpfsFlags: readonly string[];
  uid: number;
  gid: number;
  memoryLimitBytes: number;
  pidsLimit: number;
  tmpfs: ExpectedTmpfs[];
  shmSizeBytes: number;
  cwd: string;
  home: string;
  rlimitNofile: number;
  rlimitNproc: number;
  /** Soft and hard RLIMIT_CORE. */
  rlimitCore: number;
  /** Soft and hard RLIMIT_MSGQUEUE. */
  rlimitMsgqueue: number;
  netInterfaces: string[];
}

/** The facts the sandbox must report if every setting took. */
export function expectedFacts(settings: HardeningSettings): ExpectedFacts {
  const { uid, gid } = parseUser(settings.user);
  const gvisor = settings.ociRuntime === 'runsc';
  return {
    kernel: gvisor ? 'gvisor' : 'host',
    tmpfsFlags: gvisor ? ['noexec'] : ['noexec', 'nosuid', 'nodev'],
    uid,
    gid,
    memoryLimitBytes: settings.memoryBytes,
    pidsLimit: settings.pidsLimit,
    tmpfs: [
      { target: '/tmp', sizeBytes: settings.tmpSizeBytes, readWrite: true },
      { target: WORKSPACE_DIR, sizeBytes: settings.workspaceSizeBytes, readWrite: true },
      { target: '/run', sizeBytes: settings.runSizeBytes, readWrite: true },
      { target: '/var/tmp', sizeBytes: settings.varTmpSizeBytes, readWrite: false },
    ],
    shmSizeBytes: settings.shmSizeBytes,
    cwd: WORKSPACE_DIR,
    home: WORKSPACE_DIR,
    rlimitNofile: settings.nofile,
    rlimitNproc: processLimits(settings).nproc,
    rlimitCore: CORE_DUMP_LIMIT,
    rlimitMsgqueue: MESSAGE_QUEUE_LIMIT,
    netInterfaces: ['lo'],
  };
}
