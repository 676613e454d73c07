/**
 * Cancel-to-result latency (issue 9 item 4): how soon after an MCP client cancels a
 * running `run_python` call the session answers again. MCP drops a cancelled call's own
 * result (the SDK client rejects at once), so the figure is the time from sending
 * `notifications/cancelled` to the result of a `print(1)` sent right after it: the
 * interrupt reaching the code, the cell ending, and the next call's round trip. Two cases:
 * code in an interruptible loop (`time.sleep`; the state is kept), and code that ignores
 * the interrupt (SIGINT ignored, a busy loop): killed after MCP_BRIDGE_INTERRUPT_GRACE and
 * replaced, so the next call also starts a fresh sandbox.
 *
 * Runs in `npm run bench` per engine, or alone: `npx tsx bench/cancel-bench.ts`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startBenchBridge, type BenchBridge } from './bridge-process.js';
import { benchEngines } from './engines.js';
import { describeSummary, summarize, type Summary } from './stats.js';

export interface CancelSettings {
  /** Cancels of an interruptible loop timed. */
  interruptible: number;
  /** Cancels of a loop that ignores the interrupt timed (each costs a sandbox). */
  ignoring: number;
}

export interface CancelFigures {
  settings: CancelSettings;
  graceSeconds: number;
  /** Cancel → next result, the cell interrupted (the state kept). */
  interruptible: Summary;
  /** Cancel → next result, the sandbox killed after the grace time and replaced. */
  ignoring: Summary;
  /** Runs whose next call did not show what it should (state kept / fresh sandbox). */
  wrong: number;
}

const GRACE_SECONDS = 2; // MCP_BRIDGE_INTERRUPT_GRACE's default

const INTERRUPTIBLE = `kept = "yes"
import time
from mcp import runtime
runtime.progress(1)
while True:
    time.sleep(0.01)`;

const IGNORING = `kept = "yes"
import signal
from mcp import runtime
signal.signal(signal.SIGINT, signal.SIG_IGN)
runtime.progress(1)
while True:
    pass`;

const CHECK = 'print(globals().get("kept", "gone"))';

async function cancelOnce(
  bridge: BenchBridge,
  code: string,
): Promise<{ ms: number; next: string }> {
  const controller = new AbortController();
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  const call = bridge.client.callTool(
    { name: 'run_python', arguments: { code, timeout: 120 } },
    undefined,
    {
      signal: controller.signal,
      timeout: 120_000,
      onprogress: () => started(),
    },
  );
  call.catch(() => undefined); // rejects when cancelled: MCP sends no result for it
  await running;
  const t0 = performance.now();
  controller.abort('bench cancel');
  const next = (await bridge.client.callTool(
    { name: 'run_python', arguments: { code: CHECK } },
    undefined,
    { timeout: 120_000 },
  )) as CallToolResult;
  const ms = performance.now() - t0;
  const structured = (next.structuredContent ?? {}) as { stdout?: string[] };
  return { ms, next: structured.stdout?.[0] ?? '' };
}

export async function cancelLatency(
  dockerHost: string,
  image: string,
  settings: CancelSettings = { interruptible: 20, ignoring: 3 },
): Promise<CancelFigures> {
  const bridge = await startBenchBridge(dockerHost, image, {
    env: { MCP_BRIDGE_INTERRUPT_GRACE: String(GRACE_SECONDS) },
  });
  try {
    await bridge.client.callTool({ name: 'run_python', arguments: { code: 'pass' } });
    let wrong = 0;
    const interruptible: number[] = [];
    for (let i = 0; i < settings.interruptible; i += 1) {
      const run = await cancelOnce(bridge, INTERRUPTIBLE);
      interruptible.push(run.ms);
      if (run.next !== 'yes') wrong += 1;
    }
    const ignoring: number[] = [];
    for (let i = 0; i < settings.ignoring; i += 1) {
      const run = await cancelOnce(bridge, IGNORING);
      ignoring.push(run.ms);
      if (run.next !== 'gone') wrong += 1;
    }
    return {
      settings,
      graceSeconds: GRACE_SECONDS,
      interruptible: summarize(interruptible),
      ignoring: summarize(ignoring),
      wrong,
    };
  } finally {
    await bridge.close();
  }
}

export function describeCancel(figures: CancelFigures): string[] {
  return [
    `cancel → next result (notifications/cancelled, then print(1) at once):`,
    `    interruptible loop, state kept, ${figures.settings.interruptible} runs: ${describeSummary(figures.interruptible)}`,
    `    loop ignoring the interrupt, killed after ${figures.graceSeconds} s and replaced, ${figures.settings.ignoring} runs: ${describeSummary(figures.ignoring)}`,
    ...(figures.wrong > 0
      ? [`    ${figures.wrong} runs whose next call showed the wrong state`]
      : []),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const image = process.env.MCP_BRIDGE_IMAGE?.trim() || 'localhost/mcp-sandbox:test';
  for (const engine of await benchEngines()) {
    console.log(`${engine.kind} ${engine.version}`);
    for (const line of describeCancel(await cancelLatency(engine.dockerHost, image))) {
      console.log(line);
    }
  }
}
