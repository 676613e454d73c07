import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Dockerode from 'dockerode';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LABELS } from '../src/container/labels.js';
import type { Failures } from './bridge-bench.js';
import { REPO_ROOT, startBenchBridge, type BenchBridge } from './bridge-process.js';
import { processMemory } from './proc-status.js';
import { EVERYTHING_BIN } from './proxy-bench.js';
import { resultFields, soakWork, type SoakSettings } from './soak-work.js';

/**
 * The soak figure: one bridge, many calls of mixed work (prints, exceptions, `sys.exit`,
 * timeouts, proxied MCP calls, big output, session and state-dir writes), with the
 * bridge's resident memory, open file descriptors and engine containers sampled along
 * the way. They should stay flat: a leak per call shows as a slope. Memory is read as
 * found and again after a full garbage collection (bench/gc-hook.mjs): V8 collects
 * lazily, so only the second tells kept memory from garbage. See bench/README.md.
 */

export const GC_HOOK = path.join(REPO_ROOT, 'bench/gc-hook.mjs');
const GC_WAIT_MS = 10_000;

export const SOAK_TARGETS = {
  /** end − after warm-up, both read after a full garbage collection. */
  rssGrowthMiB: 10,
  fdDrift: 2,
  containers: 1,
} as const;

export interface SoakSample {
  /** Calls made when the sample was taken. */
  calls: number;
  /** Resident memory as found (garbage included). */
  rssKiB: number | undefined;
  /** Resident memory and the live JS heap right after a full garbage collection. */
  rssAfterGcKiB: number | undefined;
  heapAfterGcKiB: number | undefined;
  /** What V8 keeps reserved for its heap (used or not) after that collection. */
  heapCommittedKiB: number | undefined;
  fds: number | undefined;
  /** Containers labelled with the bridge's pid, any state. */
  containers: number;
}

export type { SoakSettings };

export interface SoakFigures {
  calls: number;
  seconds: number;
  /** Calls per kind of work. */
  mix: Record<string, number>;
  start: SoakSample;
  afterWarmup: SoakSample;
  middle: SoakSample;
  end: SoakSample;
  /** end − after warm-up, after a full collection (the target), as found, live heap. */
  rssGrowthMiB: number;
  rssGrowthAsFoundMiB: number;
  heapGrowthMiB: number;
  fdDrift: number;
  met: { rss: boolean; fds: boolean; containers: boolean };
}

function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Asks the bridge (through bench/gc-hook.mjs) for a full collection; what is left. */
export async function collectGarbage(
  bridge: BenchBridge,
  collection: number,
): Promise<{ rssKiB: number; heapKiB: number; committedKiB: number } | undefined> {
  process.kill(bridge.pid, 'SIGUSR2');
  const deadline = Date.now() + GC_WAIT_MS;
  while (Date.now() < deadline) {
    const event = bridge
      .logEvents()
      .find((entry) => entry.msg === 'bench: full gc' && entry.collection === collection);
    if (event) {
      return {
        rssKiB: Number(event.rssBytes) / 1024,
        heapKiB: Number(event.heapUsedBytes) / 1024,
        committedKiB: Number(event.heapTotalBytes) / 1024,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

async function sample(
  docker: Dockerode,
  bridge: BenchBridge,
  calls: number,
  collection: number,
): Promise<SoakSample> {
  const rssKiB = processMemory(bridge.pid).vmRssKiB;
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.ownerPid}=${bridge.pid}`] },
  });
  const collected = await collectGarbage(bridge, collection);
  return {
    calls,
    rssKiB,
    rssAfterGcKiB: collected?.rssKiB,
    heapAfterGcKiB: collected?.heapKiB,
    heapCommittedKiB: collected?.committedKiB,
    fds: openFds(bridge.pid),
    containers: containers.length,
  };
}

/**
 * Runs the soak on one bridge (with server-everything configured) and returns the
 * samples; wrong results go to `failures`. `onBridge` gets the bridge's pid.
 */
export async function soak(
  dockerHost: string,
  docker: Dockerode,
  image: string,
  settings: SoakSettings,
  failures: Failures,
  onBridge: (pid: number) => void,
): Promise<SoakFigures> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-soak-'));
  writeFileSync(
    path.join(stateDir, 'servers.json'),
    JSON.stringify({
      mcpServers: { everything: { command: process.execPath, args: [EVERYTHING_BIN] } },
    }),
  );
  const bridge = await startBenchBridge(dockerHost, image, {
    stateDir,
    env: { NODE_OPTIONS: `--import=${GC_HOOK}` },
  });
  onBridge(bridge.pid);
  try {
    const mix: Record<string, number> = {};
    let samples = 0;
    const take = (calls: number) => sample(docker, bridge, calls, (samples += 1));
    const start = await take(0);
    const middleAt = settings.warmup + Math.round((settings.calls - settings.warmup) / 2);
    let afterWarmup = start;
    let middle = start;
    const t0 = performance.now();
    for (let index = 0; index < settings.calls; index += 1) {
      const work = soakWork(index, settings);
      mix[work.kind] = (mix[work.kind] ?? 0) + 1;
      const result = (await bridge.client.callTool(
        { name: 'run_python', arguments: work.args },
        undefined,
        { timeout: 60_000 },
      )) as CallToolResult;
      if (!work.check(result)) {
        const { status, summary } = resultFields(result);
        failures.add(
          `soak call ${index} (${work.kind}): status=${status} ${summary.slice(0, 120)}`,
        );
      }
      if (index + 1 === settings.warmup) afterWarmup = await take(index + 1);
      if (index + 1 === middleAt) middle = await take(index + 1);
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = await take(settings.calls);
    const growthMiB = (pick: (at: SoakSample) => number | undefined) =>
      ((pick(end) ?? Number.NaN) - (pick(afterWarmup) ?? Number.NaN)) / 1024;
    const rssGrowthMiB = growthMiB((at) => at.rssAfterGcKiB);
    const fdDrift = (end.fds ?? Number.NaN) - (afterWarmup.fds ?? Number.NaN);
    return {
      calls: settings.calls,
      seconds,
      mix,
      start,
      afterWarmup,
      middle,
      end,
      rssGrowthMiB,
      rssGrowthAsFoundMiB: growthMiB((at) => at.rssKiB),
      heapGrowthMiB: growthMiB((at) => at.heapAfterGcKiB),
      fdDrift,
      met: {
        rss: rssGrowthMiB <= SOAK_TARGETS.rssGrowthMiB,
        fds: Math.abs(fdDrift) <= SOAK_TARGETS.fdDrift,
        containers: [afterWarmup, middle, end].every(
          (point) => point.containers === SOAK_TARGETS.containers,
        ),
      },
    };
  } finally {
    await bridge.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
