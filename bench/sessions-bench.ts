import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { dockerClient } from '../src/container/docker-client.js';
import { LABELS } from '../src/container/labels.js';
import type { Failures } from './bridge-bench.js';
import { startBenchBridge, type BenchBridge } from './bridge-process.js';
import { processMemory } from './proc-status.js';

/**
 * Named sessions (issue 10): throughput of N sessions running a CPU-bound cell in
 * parallel (N = 1, 2, 4), as a ratio to one session's cells per second, and what each
 * extra session costs in memory (its container, from the engine's stats, and the bridge's
 * RSS). No target: the ratio is bounded by the host's cores (2 cores: 2 sessions ≈ 2×,
 * 4 ≈ 2×).
 */

/** A pure-Python loop of about half a second on this kind of host. */
const CPU_CELL = 'total = 0\nfor i in range(5_000_000):\n    total += i\n';
/**
 * A cell that waits without using CPU: N sessions scale N× whatever else the host's cores
 * are doing, so this separates the bridge's parallelism from CPU contention.
 */
const SLEEP_CELL = 'import time\ntime.sleep(0.5)\n';
/** Cells each session runs one after another, per round. */
const CELLS_PER_SESSION = 4;
const COUNTS = [1, 2, 4] as const;
/** `default` is pre-warmed at initialize; the others start on first use. */
const SESSIONS = ['default', 'bench-2', 'bench-3', 'bench-4'];

export interface SessionRound {
  sessions: number;
  cells: number;
  seconds: number;
  cellsPerSecond: number;
  /** cells/s over one session's cells/s. */
  ratio: number;
}

export interface SessionFigures {
  /** The CPU cell alone, in one session (median of the first round's cells). */
  cellMs: number;
  rounds: SessionRound[];
  /** The same rounds with a 0.5 s sleep instead (no CPU). */
  sleepRounds: SessionRound[];
  /** 1-minute load average before the rounds (the host is shared). */
  loadAverage: number;
  /** Each session's container memory (engine stats), MiB, by session. */
  containerMiB: Record<string, number>;
  /** Bridge RSS with one session, and its growth per extra session, MiB. */
  bridgeRssMiB: number;
  bridgeRssPerExtraMiB: number;
  /** Mean container MiB of the extra sessions + the bridge's growth per extra session. */
  perExtraSessionMiB: number;
}

async function run(bridge: BenchBridge, session: string, code: string): Promise<CallToolResult> {
  return (await bridge.client.callTool(
    { name: 'run_python', arguments: { code, session, timeout: 120 } },
    undefined,
    { timeout: 300_000 },
  )) as CallToolResult;
}

async function timedCell(
  bridge: BenchBridge,
  session: string,
  failures: Failures,
  code = CPU_CELL,
): Promise<number> {
  const started = performance.now();
  const result = await run(bridge, session, code);
  if (result.isError) failures.add(`sessions: cell failed in ${session}`);
  return performance.now() - started;
}

/** Memory use of each session's container (the engine's stats: cgroup usage less cache). */
async function containerMemory(
  dockerHost: string,
  bridgePid: number,
): Promise<Record<string, number>> {
  const docker = dockerClient(dockerHost);
  const containers = await docker.listContainers({
    filters: { label: [`${LABELS.ownerPid}=${bridgePid}`, `${LABELS.role}=sandbox`] },
  });
  const memory: Record<string, number> = {};
  for (const info of containers) {
    const stats = (await docker.getContainer(info.Id).stats({ stream: false })) as {
      memory_stats?: { usage?: number; stats?: Record<string, number> };
    };
    const usage = stats.memory_stats?.usage ?? 0;
    const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.cache ?? 0;
    memory[info.Labels[LABELS.session] ?? '?'] = (usage - cache) / 2 ** 20;
  }
  return memory;
}

const rssMiB = (pid: number) => (processMemory(pid).vmRssKiB ?? Number.NaN) / 1024;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export async function sessionScaling(
  dockerHost: string,
  image: string,
  failures: Failures,
): Promise<SessionFigures> {
  const bridge = await startBenchBridge(dockerHost, image, {
    env: { MCP_BRIDGE_MAX_SESSIONS: String(SESSIONS.length) },
  });
  try {
    // One session first: its memory, and the bridge's, before any other session exists.
    await run(bridge, 'default', 'pass');
    const rssOne = rssMiB(bridge.pid);
    for (const session of SESSIONS.slice(1)) await run(bridge, session, 'pass');
    const rssAll = rssMiB(bridge.pid);
    const containerMiB = await containerMemory(dockerHost, bridge.pid);
    const extras = SESSIONS.slice(1).map((session) => containerMiB[session] ?? Number.NaN);
    const bridgeRssPerExtraMiB = (rssAll - rssOne) / (SESSIONS.length - 1);

    // Every session has run the cell once (bytecode cached, loop warmed) before timing.
    await Promise.all(SESSIONS.map((session) => timedCell(bridge, session, failures)));
    const loadAverage = os.loadavg()[0] ?? Number.NaN;
    const cpu = await rounds(bridge, CPU_CELL, failures);
    const sleep = await rounds(bridge, SLEEP_CELL, failures);
    return {
      cellMs: cpu.cellMs,
      rounds: cpu.rounds,
      sleepRounds: sleep.rounds,
      loadAverage,
      containerMiB,
      bridgeRssMiB: rssOne,
      bridgeRssPerExtraMiB,
      perExtraSessionMiB:
        extras.reduce((sum, value) => sum + value, 0) / extras.length + bridgeRssPerExtraMiB,
    };
  } finally {
    await bridge.close();
  }
}

/** For N = 1, 2, 4: N sessions each run CELLS_PER_SESSION cells in a row, in parallel. */
async function rounds(
  bridge: BenchBridge,
  code: string,
  failures: Failures,
): Promise<{ cellMs: number; rounds: SessionRound[] }> {
  const measured: SessionRound[] = [];
  let cellMs = Number.NaN;
  for (const count of COUNTS) {
    const sessions = SESSIONS.slice(0, count);
    const started = performance.now();
    const times = await Promise.all(
      sessions.map(async (session) => {
        const own: number[] = [];
        for (let cell = 0; cell < CELLS_PER_SESSION; cell += 1) {
          own.push(await timedCell(bridge, session, failures, code));
        }
        return own;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (count === 1) cellMs = median(times.flat());
    const cells = count * CELLS_PER_SESSION;
    const cellsPerSecond = cells / seconds;
    measured.push({
      sessions: count,
      cells,
      seconds,
      cellsPerSecond,
      ratio: cellsPerSecond / (measured[0]?.cellsPerSecond ?? cellsPerSecond),
    });
  }
  return { cellMs, rounds: measured };
}

/** The figures as printed lines. */
export function describeSessions(figures: SessionFigures): string[] {
  const lines = [
    `named sessions: a CPU-bound cell (${figures.cellMs.toFixed(0)} ms alone), ${CELLS_PER_SESSION} per session, sessions in parallel:`,
  ];
  for (const round of figures.rounds) {
    lines.push(
      `    ${round.sessions} session${round.sessions > 1 ? 's' : ''}: ${round.cells} cells in ${round.seconds.toFixed(2)} s = ${round.cellsPerSecond.toFixed(2)} cells/s, ${round.ratio.toFixed(2)}× one session`,
    );
  }
  lines.push(
    `    the same with a 0.5 s sleep (no CPU): ${figures.sleepRounds.map((round) => `${round.sessions}: ${round.ratio.toFixed(2)}×`).join(', ')}` +
      `; load average before: ${figures.loadAverage.toFixed(2)} on ${os.cpus().length} CPUs`,
  );
  const containers = Object.entries(figures.containerMiB)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([session, value]) => `${session} ${value.toFixed(1)}`)
    .join(', ');
  lines.push(
    `    memory: containers (MiB, engine stats less file cache) ${containers}; bridge RSS ${figures.bridgeRssMiB.toFixed(1)} MiB with one session, +${figures.bridgeRssPerExtraMiB.toFixed(1)} MiB per extra session`,
    `    each extra session costs about ${figures.perExtraSessionMiB.toFixed(1)} MiB (container + bridge)`,
    "    (no target; the ratio is bounded by the host's cores: on 2 cores, 2 sessions ≈ 2×, 4 ≈ 2×)",
  );
  return lines;
}
