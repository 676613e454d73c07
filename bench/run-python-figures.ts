import type { SessionFigures } from './sessions-bench.js';
import type { CancelFigures } from './cancel-bench.js';
import type { ColdFigures, FloodFigures, ThroughputFigures, WarmFigures } from './bridge-bench.js';
import type { FigureFigures } from './figures-bench.js';
import type { DirectFigures, ProxiedFigures, ToolsListFigures } from './proxy-bench.js';
import type { SearchRecall } from './search-recall.js';
import type { SoakFigures } from './soak-bench.js';
import type { FirstCallFigures, MemoryFigures } from './perf-section.js';
import type { StageFigures } from './stage-timing.js';
import type { Summary } from './stats.js';

/** The shapes of what the run_python benchmark measures (and writes to its JSON file). */

export interface PerCallFigures {
  runs: number;
  total: Summary;
  /** Medians of the steps, to show where a per-call container's time goes. */
  stepsP50: { createMs: number; attachStartMs: number; runMs: number; removeMs: number };
  /** Runs that did not print exactly "1" (or, waiting, did not exit 0). */
  badOutputs: number;
}

export interface BaselineFigures {
  /** Create, attach, start, wait for the exit status, read output, remove (the spec's baseline). */
  withWait: PerCallFigures;
  /** The same without waiting for the exit status: stream end, then remove. */
  streamEnd: PerCallFigures;
  podmanCli?: { runs: number; total: Summary; badOutputs: number } | { error: string };
}

export interface ProxyFigures {
  proxied: ProxiedFigures;
  /** The same with MCP_BRIDGE_CHANNEL=stdio: frames through the engine's attach stream. */
  proxiedStdio: ProxiedFigures;
  direct: DirectFigures;
  /** Proxied p50 / direct SDK p50: the ≤ 1.5× target. */
  ratioProxiedToDirectP50: number;
  /** (direct p50 + RPC hop p50) / direct p50: the best ratio any bridge could reach. */
  ratioFloor: number;
  /** How long the whole section took. */
  seconds: number;
}

/** Measured once per run, engine-independent. */
export interface RunFigures {
  toolsList: ToolsListFigures | { error: string };
  searchRecall: SearchRecall;
  seconds: number;
}

export interface EngineFigures {
  engine: { kind: string; version: string; source: string; dockerHost: string };
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** All CPUs over this engine's run: busy share, and time stolen by the hypervisor. */
  cpu: { busyPercent: number; stealPercent: number } | undefined;
  seconds: number;
  cold: ColdFigures;
  warm: WarmFigures;
  throughput: ThroughputFigures;
  flood: FloodFigures;
  /** One 800×600 figure per warm call; `pass` before and after pyplot is loaded. */
  figures: FigureFigures | { error: string };
  /** Proxied MCP calls against direct ones; `error` when they could not be measured. */
  proxy: ProxyFigures | { error: string };
  /** Cancel → next result (bench/cancel-bench.ts). */
  cancel: CancelFigures | { error: string };
  soak: SoakFigures | { error: string };
  /** Issue 10: N sessions in parallel (CPU-bound cells) and each extra session's memory. */
  sessions: SessionFigures | { error: string };
  /** Issue 11: first call with the sandbox started at initialize; stages; memory. */
  firstCalls: FirstCallFigures;
  stages: StageFigures | { error: string };
  memory: MemoryFigures | { error: string };
  baseline: BaselineFigures;
  /** Per-call (with wait) p50 / warm p50: the required ≥ 50×. */
  ratioBaselineToWarmP50: number;
  /** The fastest per-call variant measured (API without wait, CLI) / warm p50. */
  ratioFastestPerCallToWarmP50: number;
  failures: { count: number; examples: string[] };
  leftoverContainers: { ours: string[]; managedTotal: number };
}
