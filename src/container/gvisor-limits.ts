import type { OciRuntime } from '../config/env.js';

/**
 * How the process limit is applied under gVisor (runsc). The engine's pids limit counts
 * host tasks, and gVisor spends them differently from the sandbox: about 46 of its own at
 * rest, and about 5.3 more for each process in the sandbox (a stub process with its
 * threads, on its ptrace platform), but almost none per thread (measured with runsc
 * 20221219: 46, 104, 161 host tasks for 0, 10, 20 sleeping processes; 52 for 50 threads).
 * At the engine's limit gVisor itself dies (exit 2), taking the session with it. So:
 * - RLIMIT_NPROC, which gVisor's kernel enforces and counts per sandbox (its kernel knows
 *   no other tasks), caps the sandbox's processes and threads at MCP_BRIDGE_PIDS: a fork
 *   bomb gets EAGAIN, as under runc;
 * - the engine's pids limit leaves room for that many processes at their host cost.
 */
export const GVISOR_OWN_HOST_TASKS = 64;
export const GVISOR_HOST_TASKS_PER_PROCESS = 6;

/** The engine's pids limit and RLIMIT_NPROC (soft = hard). */
export interface ProcessLimits {
  pidsLimit: number;
  nproc: number;
}

/** What to ask the engine for, given the configured limits and runtime. */
export function processLimits(
  settings: ProcessLimits & { ociRuntime?: OciRuntime | undefined },
): ProcessLimits {
  if (settings.ociRuntime !== 'runsc')
    return { pidsLimit: settings.pidsLimit, nproc: settings.nproc };
  return {
    pidsLimit: GVISOR_OWN_HOST_TASKS + GVISOR_HOST_TASKS_PER_PROCESS * settings.pidsLimit,
    nproc: settings.pidsLimit,
  };
}
