import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startBenchBridge, type BenchBridge } from './bridge-process.js';
import { processMemory, type ProcessMemory } from './proc-status.js';
import { median, summarize, type Summary } from './stats.js';

/**
 * Measurements through the real thing: the built bin (`dist/src/main.js run`) as a child
 * process, the MCP SDK client over stdio, a real container.
 */

const PRINT_ONE = 'print(1)';
const PASS = 'pass';
const SDK_CLOSE_GRACE_MS = 2000;

export interface CallCheck {
  ok: boolean;
  status: string | undefined;
  stdout: string[];
  textChars: number;
}

/** What came back, and whether it is what `pass` / `print(1)` must give. */
export function checkResult(result: CallToolResult, expectedStdout?: string[]): CallCheck {
  const structured = (result.structuredContent ?? {}) as { status?: string; stdout?: string[] };
  const stdout = structured.stdout ?? [];
  const textChars = result.content.reduce(
    (sum, item) => sum + (item.type === 'text' ? item.text.length : 0),
    0,
  );
  // Compact mode leaves `status` out on success (README, "The result payload").
  const status = structured.status ?? 'success';
  const statusOk = status === 'success' && result.isError !== true;
  const stdoutOk =
    expectedStdout === undefined || JSON.stringify(stdout) === JSON.stringify(expectedStdout);
  return { ok: statusOk && stdoutOk, status, stdout, textChars };
}

async function call(
  bridge: BenchBridge,
  code: string,
  timeoutMs = 60_000,
): Promise<{ ms: number; result: CallToolResult }> {
  const t0 = performance.now();
  const result = (await bridge.client.callTool(
    { name: 'run_python', arguments: { code } },
    undefined,
    { timeout: timeoutMs },
  )) as CallToolResult;
  return { ms: performance.now() - t0, result };
}

/** Counts and keeps a few examples of calls that did not return what they should. */
export class Failures {
  count = 0;
  readonly examples: string[] = [];

  note(what: string, check: CallCheck): void {
    if (check.ok) return;
    this.add(
      `${what}: status=${check.status ?? '?'} stdout=${JSON.stringify(check.stdout.slice(0, 3))}`,
    );
  }

  /** One wrong result, described. */
  add(example: string): void {
    this.count += 1;
    if (this.examples.length < 3) this.examples.push(example);
  }
}

export function openBridge(
  dockerHost: string,
  image: string,
  logLevel: 'warn' | 'info' = 'warn',
): Promise<BenchBridge> {
  return startBenchBridge(dockerHost, image, { logLevel });
}

// ---------------------------------------------------------------------------------------
// Cold start

function definedOnly(values: (number | undefined)[]): number[] {
  return values.filter((value): value is number => value !== undefined);
}

export interface ColdRun {
  /** Process spawn until the MCP initialize handshake is done. */
  initializeMs: number;
  /** The first run_python call alone (it creates and boots the container). */
  firstCallMs: number;
  /**
   * From the bridge's own info log, when it has these lines: how long the first call
   * still had to wait for engine detection (started right after initialize; `version`
   * takes about 0.3 s on Podman 4.3 here), and the sandbox start (create → ready) it logs.
   */
  engineWaitMs: number | undefined;
  sandboxStartMs: number | undefined;
  /** Spawn → first result. */
  totalMs: number;
  /** client.close() (stdin closed) until the bridge process exited, container removed. */
  closeMs: number;
  /** Whether the bridge exited on stdin close alone (the SDK sends SIGTERM after 2 s). */
  exitedOnStdinClose: boolean;
  pid: number;
}

export interface ColdFigures {
  runs: ColdRun[];
  median: {
    initializeMs: number;
    firstCallMs: number;
    totalMs: number;
    closeMs: number;
    /** NaN when the bridge's log did not have the line. */
    engineWaitMs: number;
    sandboxStartMs: number;
  };
}

export async function coldStart(
  dockerHost: string,
  image: string,
  runs: number,
  failures: Failures,
): Promise<ColdFigures> {
  const results: ColdRun[] = [];
  for (let index = 0; index < runs; index += 1) {
    const t0 = performance.now();
    // Info level, for the two log lines of the first-call breakdown.
    const bridge = await openBridge(dockerHost, image, 'info');
    const t1 = performance.now();
    const callSentAt = Date.now();
    let first: { ms: number; result: CallToolResult };
    try {
      first = await call(bridge, PRINT_ONE);
    } catch (error) {
      await bridge.close();
      throw error;
    }
    const t2 = performance.now();
    await bridge.close();
    const closeMs = performance.now() - t2;
    failures.note(`cold start #${index + 1}`, checkResult(first.result, ['1']));
    const events = bridge.logEvents();
    const engineFound = events.find((event) => event.msg === 'container engine found');
    const sandboxStarted = events.find((event) => event.msg === 'sandbox started');
    results.push({
      engineWaitMs: engineFound ? Math.max(0, engineFound.time - callSentAt) : undefined,
      sandboxStartMs: typeof sandboxStarted?.ms === 'number' ? sandboxStarted.ms : undefined,
      initializeMs: t1 - t0,
      firstCallMs: first.ms,
      totalMs: t1 - t0 + first.ms,
      closeMs,
      // The SDK's close() ends stdin, waits 2 s, then sends SIGTERM.
      exitedOnStdinClose: closeMs < SDK_CLOSE_GRACE_MS,
      pid: bridge.pid,
    });
  }
  return {
    runs: results,
    median: {
      initializeMs: median(results.map((run) => run.initializeMs)),
      firstCallMs: median(results.map((run) => run.firstCallMs)),
      totalMs: median(results.map((run) => run.totalMs)),
      closeMs: median(results.map((run) => run.closeMs)),
      engineWaitMs: median(definedOnly(results.map((run) => run.engineWaitMs))),
      sandboxStartMs: median(definedOnly(results.map((run) => run.sandboxStartMs))),
    },
  };
}

// ---------------------------------------------------------------------------------------
// Warm round trips, MCP floor, throughput

export interface WarmFigures {
  warmupCalls: number;
  all: Summary;
  byCode: { pass: Summary; printOne: Summary };
  /** p50 of each consecutive block of calls: how much the figure moves within one run. */
  blockP50s: number[];
  /** client.ping() round trips: the MCP stdio hop alone, no container involved. */
  mcpPing: Summary;
}

export async function warmRoundTrips(
  bridge: BenchBridge,
  options: { calls: number; blocks: number; warmup: number; pings: number },
  failures: Failures,
): Promise<WarmFigures> {
  for (let index = 0; index < options.warmup; index += 1) {
    const { result } = await call(bridge, index % 2 === 0 ? PASS : PRINT_ONE);
    failures.note('warm-up', checkResult(result));
  }
  const pings: number[] = [];
  for (let index = 0; index < options.pings; index += 1) {
    const t0 = performance.now();
    await bridge.client.ping();
    pings.push(performance.now() - t0);
  }
  const pass: number[] = [];
  const printOne: number[] = [];
  const all: number[] = [];
  const blockP50s: number[] = [];
  const perBlock = Math.ceil(options.calls / options.blocks);
  let block: number[] = [];
  for (let index = 0; index < options.calls; index += 1) {
    const isPass = index % 2 === 0;
    const { ms, result } = await call(bridge, isPass ? PASS : PRINT_ONE);
    failures.note(isPass ? 'warm pass' : 'warm print(1)', checkResult(result, isPass ? [] : ['1']));
    (isPass ? pass : printOne).push(ms);
    all.push(ms);
    block.push(ms);
    if (block.length === perBlock || index === options.calls - 1) {
      blockP50s.push(median(block));
      block = [];
    }
  }
  return {
    warmupCalls: options.warmup,
    all: summarize(all),
    byCode: { pass: summarize(pass), printOne: summarize(printOne) },
    blockP50s,
    mcpPing: summarize(pings),
  };
}

export interface ThroughputFigures {
  calls: number;
  seconds: number;
  callsPerSecond: number;
  /**
   * The same calls' round trips. They come after hundreds of calls, when V8 has optimised
   * the hot paths in client and bridge: a steady-state figure next to the warm one.
   */
  latency: Summary;
}

/** Sequential `pass` calls, each awaited before the next, for `seconds`. */
export async function throughput(
  bridge: BenchBridge,
  seconds: number,
  failures: Failures,
): Promise<ThroughputFigures> {
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const { ms, result } = await call(bridge, PASS);
    failures.note('throughput', checkResult(result, []));
    samples.push(ms);
  }
  const elapsed = (performance.now() - t0) / 1000;
  return {
    calls: samples.length,
    seconds: elapsed,
    callsPerSecond: samples.length / elapsed,
    latency: summarize(samples),
  };
}

// ---------------------------------------------------------------------------------------
// Output flood

export interface FloodRun {
  name: string;
  code: string;
  /** Bytes the code writes to stdout. */
  printedBytes: number;
  ms: number;
  status: string | undefined;
  /** Characters of text the client received (bounded by MCP_BRIDGE_OUTPUT_LIMIT). */
  responseChars: number;
  truncationMarker: boolean;
  memoryAfter: ProcessMemory;
}

export interface FloodFigures {
  memoryBefore: ProcessMemory;
  runs: FloodRun[];
  /** A print(1) right after the floods: the session still answers, and how fast. */
  afterFloodCallMs: number;
  afterFloodOk: boolean;
}

const FLOODS = [
  {
    name: 'one 50 MB write',
    code: "import sys; sys.stdout.write('x' * 50_000_000)",
    printedBytes: 50_000_000,
  },
  {
    name: '1 M short prints (50 MB)',
    code: "for _ in range(1_000_000):\n    print('x' * 49)",
    printedBytes: 50_000_000,
  },
] as const;

export async function outputFlood(bridge: BenchBridge, failures: Failures): Promise<FloodFigures> {
  const pid = bridge.pid;
  const memoryBefore = processMemory(pid);
  const runs: FloodRun[] = [];
  for (const flood of FLOODS) {
    const { ms, result } = await call(bridge, flood.code, 120_000);
    const check = checkResult(result);
    failures.note(`flood ${flood.name}`, check);
    const text = result.content.map((item) => (item.type === 'text' ? item.text : '')).join('');
    runs.push({
      ...flood,
      ms,
      status: check.status,
      responseChars: check.textChars,
      truncationMarker: text.includes('output truncated'),
      memoryAfter: processMemory(pid),
    });
  }
  const after = await call(bridge, PRINT_ONE);
  const afterCheck = checkResult(after.result, ['1']);
  failures.note('print(1) after flood', afterCheck);
  return { memoryBefore, runs, afterFloodCallMs: after.ms, afterFloodOk: afterCheck.ok };
}
