import type { MountFact, SandboxFacts } from '../channel/frames.js';
import { formatByteSize } from '../config/byte-size.js';
import { isGvisorKernel, type ExpectedFacts } from './expected-facts.js';

/**
 * The checks that differ under gVisor (MCP_BRIDGE_OCI_RUNTIME=runsc), where the sandbox's
 * kernel is gVisor's own and shows some settings differently than the host kernel does.
 * Each is checked the way gVisor can show it; none is skipped without saying why.
 */

/** Tolerance for sizes rounded up to whole pages (up to 64 KiB pages). */
const PAGE_SLACK = 64 * 1024;

function describeKernel(kernel: SandboxFacts['kernel']): string {
  return kernel ? `"${kernel.release} ${kernel.version}"` : 'unknown';
}

/**
 * The runtime must be the one asked for. Under runsc the sandbox must see gVisor's kernel:
 * an engine can ignore the runtime (Podman 4.3's Docker-compatible API does) and run
 * the sandbox on the host kernel instead. Under runc it must not: an engine whose default
 * is runsc would show facts that the runc checks misread.
 */
export function checkKernel(facts: SandboxFacts, expected: ExpectedFacts): string[] {
  const gvisor = isGvisorKernel(facts.kernel);
  if (expected.kernel === 'gvisor' && !gvisor) {
    return [
      `runtime: MCP_BRIDGE_OCI_RUNTIME=runsc, but the sandbox does not run under gVisor (its kernel is ${describeKernel(facts.kernel)}): ` +
        'the engine ignored the runtime or does not have it. Podman ignores the runtime a Docker-API client asks for: point the bridge at a Podman service whose default runtime is runsc (README, "gVisor (optional)")',
    ];
  }
  if (expected.kernel === 'host' && gvisor) {
    return [
      "runtime: the sandbox runs under gVisor (the engine's default runtime is runsc), but MCP_BRIDGE_OCI_RUNTIME is not runsc: " +
        'set MCP_BRIDGE_OCI_RUNTIME=runsc so the bridge checks the sandbox the way gVisor shows it',
    ];
  }
  return [];
}

/**
 * gVisor has no ambient capabilities (prctl PR_CAP_AMBIENT fails with EINVAL) and prints
 * no CapAmb line; everywhere else a missing set is a failed read.
 */
export function checkAmbientCaps(facts: SandboxFacts, expected: ExpectedFacts): string[] {
  if (facts.capAmb !== null || expected.kernel === 'gvisor') return [];
  return ['capabilities: the ambient set is not shown, expected none'];
}

/**
 * Under gVisor /dev/shm is the engine's sized tmpfs passed through gVisor's file proxy
 * (fstype 9p), so mountinfo shows no size: statvfs does (`shmSizeBytes`).
 */
export function checkGvisorShm(
  mount: MountFact | undefined,
  facts: SandboxFacts,
  sizeBytes: number,
): string[] {
  if (!mount) return [`/dev/shm is not mounted (expected ${formatByteSize(sizeBytes)})`];
  const problems: string[] = [];
  if (!mount.options.includes('noexec'))
    problems.push(`/dev/shm is not noexec (${mount.fstype}: ${mount.options.join(',')})`);
  if (facts.shmSizeBytes === null) problems.push('/dev/shm: its size could not be read');
  else if (facts.shmSizeBytes > sizeBytes + PAGE_SLACK) {
    problems.push(
      `/dev/shm is ${formatByteSize(facts.shmSizeBytes)}, expected at most ${formatByteSize(sizeBytes)}`,
    );
  }
  return problems;
}

/**
 * gVisor shows no cgroup files: the limits apply on the host, to gVisor itself. Memory
 * shows all the same: runsc gives gVisor's kernel as much memory as the cgroup allows,
 * and it reports that as MemTotal (measured: 524288 kB at 512 MiB, the host's 24 GiB
 * without a limit). The engine's pids limit does not show: it caps gVisor's own host
 * tasks. The sandbox's processes are capped by RLIMIT_NPROC instead, which gVisor
 * enforces and the runc checks verify (gvisor-limits.ts). A limit gVisor does show must
 * still hold.
 */
export function checkGvisorLimits(facts: SandboxFacts, expected: ExpectedFacts): string[] {
  const problems: string[] = [];
  const memory = expected.memoryLimitBytes;
  if (facts.memTotalBytes === null)
    problems.push(`memory limit: expected ${formatByteSize(memory)}, MemTotal unreadable`);
  else if (facts.memTotalBytes > memory) {
    problems.push(
      `memory limit: expected ${formatByteSize(memory)}, gVisor was given ${formatByteSize(facts.memTotalBytes)} (MemTotal)`,
    );
  }
  if (facts.memoryLimitBytes !== null && facts.memoryLimitBytes > memory) {
    problems.push(
      `memory limit: expected ${formatByteSize(memory)}, cgroup says ${formatByteSize(facts.memoryLimitBytes)}`,
    );
  }
  if (facts.pidsLimit !== null && facts.pidsLimit > expected.pidsLimit)
    problems.push(`pids limit: expected ${expected.pidsLimit}, cgroup says ${facts.pidsLimit}`);
  return problems;
}
