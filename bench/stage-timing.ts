import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { checkResult, type Failures } from './bridge-bench.js';
import { startBenchBridge, type BridgeLogEvent } from './bridge-process.js';
import { median } from './stats.js';

/**
 * Where a warm run_python's time goes: a bridge with MCP_BRIDGE_TIMING=1 logs, per call,
 * when each stage was reached (ms since the request's first byte on its stdin) and the
 * runner's own step times from its `done` frame. The bench takes the median of each step.
 */

export interface StageStep {
  /** "from → to" on the bridge, or "runner: step". */
  step: string;
  p50Ms: number;
}

export interface StageFigures {
  calls: number;
  /** Bridge steps in order, then the runner's, then the derived channel hop. */
  steps: StageStep[];
  /** Median of (response written − first byte): the bridge's own view of a call. */
  bridgeTotalP50Ms: number;
  /** Round trip as the client saw it, on this (timed) bridge. */
  clientP50Ms: number;
}

const RUNNER_STEPS = ['wait', 'prepare', 'compile', 'exec', 'finish', 'capture'] as const;

interface TimingLine {
  stages: [string, number][];
  runner?: Record<string, number>;
}

function timingLines(events: BridgeLogEvent[]): TimingLine[] {
  return events
    .filter((event) => event.msg === 'call timing')
    .map((event) => event as unknown as TimingLine)
    .filter((line) => line.stages.some(([stage]) => stage === 'handler'));
}

/** The median of each bridge step, the runner's steps and the hop between them. */
export function stageBreakdown(lines: TimingLine[]): StageStep[] {
  const order = lines[0]?.stages.map(([stage]) => stage) ?? [];
  const steps: StageStep[] = [];
  const at = (line: TimingLine, stage: string): number =>
    line.stages.find(([name]) => name === stage)?.[1] ?? Number.NaN;
  for (const [index, stage] of order.entries()) {
    if (index === 0) continue;
    const before = order[index - 1] ?? '';
    steps.push({
      step: `${before} → ${stage}`,
      p50Ms: median(lines.map((line) => at(line, stage) - at(line, before))),
    });
  }
  for (const step of RUNNER_STEPS) {
    steps.push({
      step: `runner: ${step}`,
      p50Ms: median(lines.map((line) => line.runner?.[step] ?? Number.NaN)),
    });
  }
  // execute written → done received, less the runner's own time: both channel legs.
  steps.push({
    step: 'channel both ways (execute written → done received − runner)',
    p50Ms: median(
      lines.map((line) => {
        const runner = RUNNER_STEPS.reduce((sum, step) => sum + (line.runner?.[step] ?? 0), 0);
        return at(line, 'done received') - at(line, 'execute written') - runner;
      }),
    ),
  });
  return steps;
}

/** Runs `calls` warm calls (after `warmup`) on a bridge with MCP_BRIDGE_TIMING=1. */
export async function measureStages(
  dockerHost: string,
  image: string,
  options: { calls: number; warmup: number; bin?: string },
  failures: Failures,
): Promise<StageFigures> {
  const bridge = await startBenchBridge(dockerHost, image, {
    logLevel: 'info',
    env: { MCP_BRIDGE_TIMING: '1' },
    ...(options.bin ? { bin: options.bin } : {}),
  });
  try {
    const client: number[] = [];
    for (let index = 0; index < options.warmup + options.calls; index += 1) {
      const code = index % 2 === 0 ? 'pass' : 'print(1)';
      const t0 = performance.now();
      const result = (await bridge.client.callTool({
        name: 'run_python',
        arguments: { code },
      })) as CallToolResult;
      if (index >= options.warmup) client.push(performance.now() - t0);
      failures.note('timed call', checkResult(result, code === 'pass' ? [] : ['1']));
    }
    const lines = timingLines(bridge.logEvents()).slice(-options.calls);
    return {
      calls: lines.length,
      steps: stageBreakdown(lines),
      bridgeTotalP50Ms: median(
        lines.map((line) => (line.stages.at(-1)?.[1] ?? 0) - (line.stages[0]?.[1] ?? 0)),
      ),
      clientP50Ms: median(client),
    };
  } finally {
    await bridge.close();
  }
}
