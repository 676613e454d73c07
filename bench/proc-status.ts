import { readFileSync } from 'node:fs';

/** A process's memory as Linux reports it in /proc/<pid>/status, in KiB. */
export interface ProcessMemory {
  /** Peak resident set size so far ("high water mark"). */
  vmHwmKiB: number | undefined;
  /** Resident set size now. */
  vmRssKiB: number | undefined;
}

/** Reads VmHWM and VmRSS; both undefined when the process or /proc is not there. */
export function processMemory(pid: number | null | undefined): ProcessMemory {
  if (pid === null || pid === undefined) return { vmHwmKiB: undefined, vmRssKiB: undefined };
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { vmHwmKiB: undefined, vmRssKiB: undefined };
  }
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  };
  return { vmHwmKiB: field('VmHWM'), vmRssKiB: field('VmRSS') };
}

/** The machine's CPU time counters (the `cpu` line of /proc/stat), in clock ticks. */
export interface CpuTimes {
  total: number;
  idle: number;
  steal: number;
}

export function cpuTimes(): CpuTimes | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  if (!line?.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (index: number) => fields[index] ?? 0;
  // guest time is already counted in user time.
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { total, idle: at(3) + at(4), steal: at(7) };
}

/** Share of all CPUs' time between two readings that was busy, and stolen by the hypervisor. */
export function cpuUsage(
  before: CpuTimes | undefined,
  after: CpuTimes | undefined,
): { busyPercent: number; stealPercent: number } | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  const total = after.total - before.total;
  return {
    busyPercent: (100 * (total - (after.idle - before.idle))) / total,
    stealPercent: (100 * (after.steal - before.steal)) / total,
  };
}
