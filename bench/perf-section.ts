import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { checkResult, type Failures } from './bridge-bench.js';
import { REPO_ROOT, startBenchBridge, type BenchBridge } from './bridge-process.js';
import { EVERYTHING_BIN } from './proxy-bench.js';
import { processMemory } from './proc-status.js';
import { collectGarbage, GC_HOOK } from './soak-bench.js';
import { median, summarize, type Summary } from './stats.js';

/**
 * Issue 11's figures (bench/README.md, "Start, warm call, memory"): the first call with
 * the sandbox started at initialize, a warm call against the MCP ping of the same bridge,
 * and the bridge's memory with no servers and with seven real ones. Each takes `bin`, so
 * bench/perf.bench.ts can measure an earlier build in the same run.
 */

async function callPython(
  bridge: BenchBridge,
  code: string,
): Promise<{ ms: number; result: CallToolResult }> {
  const t0 = performance.now();
  const result = (await bridge.client.callTool(
    { name: 'run_python', arguments: { code } },
    undefined,
    { timeout: 120_000 },
  )) as CallToolResult;
  return { ms: performance.now() - t0, result };
}

const binOption = (bin: string | undefined) => (bin ? { bin } : {});

// ---------------------------------------------------------------------------------------
// First call

export interface FirstCallFigures {
  /** spawn → initialize → first call at once: the first call alone, per run. */
  atOnceMs: number[];
  /** spawn → initialize → 1 s pause → first call: the first call alone, per run. */
  afterPauseMs: number[];
  atOnceP50: number;
  afterPauseP50: number;
  /** The bridge's own log: how long the sandbox start took ('sandbox pre-warmed', ms). */
  prewarmP50: number;
}

export async function firstCalls(
  dockerHost: string,
  image: string,
  options: { runs: number; pauseMs: number; bin?: string },
  failures: Failures,
): Promise<FirstCallFigures> {
  const atOnce: number[] = [];
  const afterPause: number[] = [];
  const prewarm: number[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    for (const pause of [0, options.pauseMs]) {
      const bridge = await startBenchBridge(dockerHost, image, {
        logLevel: 'info',
        ...binOption(options.bin),
      });
      try {
        if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
        const { ms, result } = await callPython(bridge, 'print(1)');
        failures.note(`first call (pause ${pause} ms)`, checkResult(result, ['1']));
        (pause > 0 ? afterPause : atOnce).push(ms);
        const line = bridge.logEvents().find((event) => event.msg === 'sandbox pre-warmed');
        if (typeof line?.ms === 'number') prewarm.push(line.ms);
      } finally {
        await bridge.close();
      }
    }
  }
  return {
    atOnceMs: atOnce,
    afterPauseMs: afterPause,
    atOnceP50: median(atOnce),
    afterPauseP50: median(afterPause),
    prewarmP50: prewarm.length > 0 ? median(prewarm) : Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------
// Warm call against the MCP ping, several bridges interleaved

export interface WarmPingFigures {
  warm: Summary;
  ping: Summary;
  /** warm p50 / ping p50. */
  ratio: number;
}

/**
 * One bridge per `bins` entry, all open at once; blocks of `block` pings then `block`
 * calls (alternating `pass` / `print(1)`) go to each bridge in turn, so that every build
 * meets the same machine load.
 */
export async function warmAgainstPing(
  dockerHost: string,
  image: string,
  bins: (string | undefined)[],
  options: { warmup: number; blocks: number; block: number },
  failures: Failures,
): Promise<WarmPingFigures[]> {
  const bridges: BenchBridge[] = [];
  try {
    for (const bin of bins) bridges.push(await startBenchBridge(dockerHost, image, binOption(bin)));
    const warm: number[][] = bins.map(() => []);
    const pings: number[][] = bins.map(() => []);
    for (const bridge of bridges) {
      for (let index = 0; index < options.warmup; index += 1) {
        const { result } = await callPython(bridge, index % 2 ? 'pass' : 'print(1)');
        failures.note('warm-up', checkResult(result));
      }
    }
    for (let block = 0; block < options.blocks; block += 1) {
      for (const [which, bridge] of bridges.entries()) {
        for (let index = 0; index < options.block; index += 1) {
          const t0 = performance.now();
          await bridge.client.ping();
          pings[which]?.push(performance.now() - t0);
        }
        for (let index = 0; index < options.block; index += 1) {
          const isPass = index % 2 === 0;
          const { ms, result } = await callPython(bridge, isPass ? 'pass' : 'print(1)');
          failures.note('warm call', checkResult(result, isPass ? [] : ['1']));
          warm[which]?.push(ms);
        }
      }
    }
    return bins.map((_, which) => {
      const warmSummary = summarize(warm[which] ?? []);
      const pingSummary = summarize(pings[which] ?? []);
      return { warm: warmSummary, ping: pingSummary, ratio: warmSummary.p50 / pingSummary.p50 };
    });
  } finally {
    for (const bridge of bridges) await bridge.close();
  }
}

// ---------------------------------------------------------------------------------------
// Memory

export interface MemoryFigures {
  /** VmRSS after the first call (sandbox up), no servers configured; then after a full GC. */
  noServersMiB: number;
  noServersAfterGcMiB: number;
  /** The same with `servers` real MCP servers started and listed (one call using all). */
  withServersMiB: number;
  withServersAfterGcMiB: number;
  servers: number;
  /** (with − without) / servers, after GC. */
  perServerMiB: number;
  /** Live JS heap after GC, no servers. */
  heapNoServersMiB: number;
}

/** Seven real MCP servers from node_modules: everything, filesystem and memory, in turn. */
function realServers(
  count: number,
  dir: string,
): Record<string, { command: string; args: string[]; env?: Record<string, string> }> {
  const modules = path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol');
  const kinds = ['everything', 'filesystem', 'memory'] as const;
  const definition = (kind: (typeof kinds)[number], name: string) => {
    if (kind === 'everything') return { command: process.execPath, args: [EVERYTHING_BIN] };
    if (kind === 'filesystem') {
      const bin = path.join(modules, 'server-filesystem/dist/index.js');
      return { command: process.execPath, args: [bin, dir] };
    }
    return {
      command: process.execPath,
      args: [path.join(modules, 'server-memory/dist/index.js')],
      env: { MEMORY_FILE_PATH: path.join(dir, `${name}.jsonl`) },
    };
  };
  return Object.fromEntries(
    Array.from({ length: count }, (_, index) => {
      const kind = kinds[index % kinds.length] ?? 'everything';
      const name = `${kind}${Math.floor(index / kinds.length) || ''}`;
      return [name, definition(kind, name)];
    }),
  );
}

const mibOf = (kib: number | undefined): number => (kib ?? Number.NaN) / 1024;

async function memoryOf(
  dockerHost: string,
  image: string,
  servers: number,
  bin: string | undefined,
  failures: Failures,
): Promise<{ rssMiB: number; afterGcMiB: number; heapMiB: number }> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-memory-'));
  try {
    const configured = realServers(servers, stateDir);
    writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify({ mcpServers: configured }));
    const bridge = await startBenchBridge(dockerHost, image, {
      stateDir,
      env: { NODE_OPTIONS: `--import=${GC_HOOK}` },
      ...binOption(bin),
    });
    try {
      const names = Object.keys(configured);
      const code = `print(len(LOADED_MCP_SERVERS))`;
      for (let call = 0; call < 5; call += 1) {
        const result = (await bridge.client.callTool(
          { name: 'run_python', arguments: { code, servers: names } },
          undefined,
          { timeout: 120_000 },
        )) as CallToolResult;
        failures.note('memory call', checkResult(result, [String(names.length)]));
      }
      const rssMiB = mibOf(processMemory(bridge.pid).vmRssKiB);
      const collected = await collectGarbage(bridge, 1);
      return {
        rssMiB,
        afterGcMiB: mibOf(collected?.rssKiB),
        heapMiB: mibOf(collected?.heapKiB),
      };
    } finally {
      await bridge.close();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function bridgeMemory(
  dockerHost: string,
  image: string,
  options: { servers: number; bin?: string },
  failures: Failures,
): Promise<MemoryFigures> {
  const none = await memoryOf(dockerHost, image, 0, options.bin, failures);
  const some = await memoryOf(dockerHost, image, options.servers, options.bin, failures);
  return {
    noServersMiB: none.rssMiB,
    noServersAfterGcMiB: none.afterGcMiB,
    withServersMiB: some.rssMiB,
    withServersAfterGcMiB: some.afterGcMiB,
    servers: options.servers,
    perServerMiB: (some.afterGcMiB - none.afterGcMiB) / options.servers,
    heapNoServersMiB: none.heapMiB,
  };
}
