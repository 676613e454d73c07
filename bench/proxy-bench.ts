import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../src/config/servers-config.js';
import { createLogger } from '../src/logger.js';
import { UpstreamClient } from '../src/upstream/upstream-client.js';
import { checkResult, type Failures } from './bridge-bench.js';
import { REPO_ROOT, startBenchBridge, type BenchBridge } from './bridge-process.js';
import { summarize, type Summary } from './stats.js';

/**
 * MCP proxying (issue 3, item 10): `await mcp_everything.echo(...)` from the sandbox
 * against a direct SDK client call to the same server; `tools/list` size; see
 * bench/README.md.
 */

export const EVERYTHING_BIN = path.join(
  REPO_ROOT,
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);

export interface ProxySettings {
  /** Proxied calls before the timed ones, in the same run_python call. */
  warmup: number;
  /** Timed sequential proxied calls (and direct calls). */
  calls: number;
  /** Calls per diagnostic loop (RPC hop alone, sync variants). */
  diagnosticCalls: number;
  /** Calls in one `asyncio.gather`. */
  concurrent: number;
  concurrentRounds: number;
  directWarmup: number;
  /** Direct and in-process calls alternate in blocks of this many. */
  directBlock: number;
}

// ---------------------------------------------------------------------------------------
// Proxied calls, measured inside the sandbox

/** Runs in one run_python call; times with time.perf_counter() and prints one JSON line. */
function proxiedCell(settings: ProxySettings): string {
  const { warmup, calls, diagnosticCalls, concurrent, concurrentRounds } = settings;
  return `
import asyncio
import json
import time
from concurrent.futures import Future

from mcp import runtime
from mcp._link import LINK

WARMUP, CALLS, DIAGNOSTIC, CONCURRENT, ROUNDS = ${warmup}, ${calls}, ${diagnosticCalls}, ${concurrent}, ${concurrentRounds}
wrong = []


def summary(seconds):
    ms = sorted(value * 1000 for value in seconds)
    n = len(ms)

    def pct(p):  # nearest rank, as bench/stats.ts
        return ms[min(n - 1, max(0, -(-p * n // 100) - 1))]

    return {"count": n, "min": ms[0], "p50": pct(50), "p90": pct(90), "p99": pct(99),
            "max": ms[-1], "mean": sum(ms) / n}


def check(result, expected, what):
    if result.text != expected:
        wrong.append(f"{what}: {result.text[:80]!r}, want {expected!r}")


# The warm-up's calls are timed too: how the first calls of a cell compare with later ones.
warmup = []
for _ in range(WARMUP):
    t0 = time.perf_counter()
    result = await mcp_everything.echo(message="x")
    warmup.append(time.perf_counter() - t0)
    check(result, "Echo: x", "warm-up")

samples = []
started = time.perf_counter()
for _ in range(CALLS):
    t0 = time.perf_counter()
    result = await mcp_everything.echo(message="x")
    samples.append(time.perf_counter() - t0)
    check(result, "Echo: x", "sequential")
total = time.perf_counter() - started

rounds = []
for _ in range(ROUNDS):
    t0 = time.perf_counter()
    results = await asyncio.gather(*[mcp_everything.echo(message=str(i)) for i in range(CONCURRENT)])
    elapsed = time.perf_counter() - t0
    correct = sum(r.text == "Echo: " + str(i) for i, r in enumerate(results))
    if correct != CONCURRENT:
        wrong.append(f"gather: {correct}/{len(results)} results right and in place")
    rounds.append({"ms": elapsed * 1000, "results": len(results), "correct": correct})


async def timed(make):
    out = []
    for _ in range(DIAGNOSTIC):
        t0 = time.perf_counter()
        await make()
        out.append(time.perf_counter() - t0)
    return out


def timed_sync(call):
    out = []
    for _ in range(DIAGNOSTIC):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


# Where the time goes: list_servers is answered by the bridge itself (no upstream server).
hop = await timed(runtime.list_servers)
hop_sync = timed_sync(runtime.list_servers_sync)
echo_sync = timed_sync(lambda: check(mcp_everything.echo.sync(message="x"), "Echo: x", "sync"))


class Canned:
    """Answers at once, in this process: the Python side of a call alone."""

    def submit(self, payload):
        future = Future()
        answer = {"result": {"content": [{"type": "text", "text": "Echo: x"}]}}
        future.set_result({"type": "rpc_response", "id": 0, "success": True, "payload": answer})
        return future


real, LINK.transport = LINK.transport, Canned()
try:
    python_side = await timed(lambda: mcp_everything.echo(message="x"))
finally:
    LINK.transport = real

print("JSON " + json.dumps({
    "echo": summary(samples),
    "sequential": {"calls": CALLS, "seconds": total, "callsPerSecond": CALLS / total},
    "concurrent": rounds,
    "rpcHop": summary(hop),
    "rpcHopSync": summary(hop_sync),
    "echoSync": summary(echo_sync),
    "pythonSide": summary(python_side),
    "first100": summary(warmup[:100]),
    "calls901to1000": summary(warmup[900:1000]) if len(warmup) >= 1000 else summary(samples[-100:]),
    "wrong": wrong,
}))
`;
}

export interface ConcurrentRound {
  ms: number;
  results: number;
  /** Results whose text is `Echo: <its index>`: right and in place. */
  correct: number;
}

export interface ProxiedFigures {
  /** Per-call round trips of the timed sequential loop, from inside the sandbox. */
  echo: Summary;
  /** The same loop: calls / its total seconds. */
  sequential: { calls: number; seconds: number; callsPerSecond: number };
  concurrent: {
    calls: number;
    rounds: ConcurrentRound[];
    medianMs: number;
    /** Every round: every result right and in place. */
    allCorrect: boolean;
  };
  /** `runtime.list_servers()`: sandbox → bridge → sandbox, no upstream server. */
  rpcHop: Summary;
  /** `runtime.list_servers_sync()`: the same without asyncio (a blocking wait). */
  rpcHopSync: Summary;
  /** `mcp_everything.echo.sync(...)`. */
  echoSync: Summary;
  /** An echo against a transport that answers at once in the sandbox: Python alone. */
  pythonSide: Summary;
  /** The cell's first 100 proxied calls (its warm-up), and its calls 901–1000. */
  first100: Summary;
  calls901to1000: Summary;
  /** run_python as the client saw it (bridge start not included). */
  cellMs: number;
  /** The first run_python call with servers (starts the sandbox and the server). */
  firstCallMs: number;
}

interface CellOutput {
  echo: Summary;
  sequential: ProxiedFigures['sequential'];
  concurrent: ConcurrentRound[];
  rpcHop: Summary;
  rpcHopSync: Summary;
  echoSync: Summary;
  pythonSide: Summary;
  first100: Summary;
  calls901to1000: Summary;
  wrong: string[];
}

function writeServersConfig(stateDir: string): void {
  const config = {
    description: 'npm run bench: proxied calls',
    mcpServers: {
      everything: { command: process.execPath, args: [EVERYTHING_BIN] },
    },
  };
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
}

async function runCell(
  bridge: BenchBridge,
  code: string,
): Promise<{ ms: number; result: CallToolResult }> {
  const t0 = performance.now();
  const result = (await bridge.client.callTool(
    { name: 'run_python', arguments: { code, servers: ['everything'], timeout: 120 } },
    undefined,
    { timeout: 180_000 },
  )) as CallToolResult;
  return { ms: performance.now() - t0, result };
}

function describe(result: CallToolResult): string {
  const text = result.content.map((item) => (item.type === 'text' ? item.text : '')).join('');
  return text.slice(0, 500).replaceAll('\n', ' | ');
}

/**
 * One bridge with `everything` configured in its state dir's servers.json; one run_python
 * call that loads it and prints `OK`, then one that measures. `onBridge` gets the
 * bridge's pid (for the leftover-container check); `channel` is its MCP_BRIDGE_CHANNEL.
 */
export async function proxiedCalls(
  dockerHost: string,
  image: string,
  settings: ProxySettings,
  failures: Failures,
  onBridge: (pid: number) => void,
  channel: 'auto' | 'stdio' = 'auto',
  bin?: string,
): Promise<ProxiedFigures> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-proxy-'));
  try {
    writeServersConfig(stateDir);
    const env = { MCP_BRIDGE_CHANNEL: channel };
    const bridge = await startBenchBridge(dockerHost, image, {
      stateDir,
      env,
      ...(bin ? { bin } : {}),
    });
    onBridge(bridge.pid);
    try {
      const first = await runCell(bridge, 'print((await mcp_everything.echo(message="OK")).text)');
      const firstCheck = checkResult(first.result, ['Echo: OK']);
      if (!firstCheck.ok) {
        throw new Error(`the first proxied call failed: ${describe(first.result)}`);
      }
      const cell = await runCell(bridge, proxiedCell(settings));
      const check = checkResult(cell.result);
      const line = check.stdout.findLast((text) => text.startsWith('JSON '));
      if (!check.ok || line === undefined) {
        throw new Error(`the measuring call failed: ${describe(cell.result)}`);
      }
      const output = JSON.parse(line.slice('JSON '.length)) as CellOutput;
      for (const wrong of output.wrong) failures.add(`proxied ${wrong}`);
      const roundMs = output.concurrent.map((round) => round.ms);
      return {
        echo: output.echo,
        sequential: output.sequential,
        concurrent: {
          calls: settings.concurrent,
          rounds: output.concurrent,
          medianMs: summarize(roundMs).p50,
          allCorrect:
            output.concurrent.length > 0 &&
            output.concurrent.every(
              (round) => round.results === settings.concurrent && round.correct === round.results,
            ),
        },
        rpcHop: output.rpcHop,
        rpcHopSync: output.rpcHopSync,
        echoSync: output.echoSync,
        pythonSide: output.pythonSide,
        first100: output.first100,
        calls901to1000: output.calls901to1000,
        cellMs: cell.ms,
        firstCallMs: first.ms,
      };
    } finally {
      await bridge.close();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Direct calls, from the benchmark process

export interface DirectFigures {
  /** The MCP SDK's Client + StdioClientTransport on its own server-everything. */
  sdk: Summary;
  sdkCallsPerSecond: number;
  /**
   * The bridge's own upstream client (src/upstream UpstreamClient) in this process on a
   * third instance: the bridge's upstream leg without the sandbox hop.
   */
  bridgeClient: Summary;
}

/** The text of an echo result ('' for anything else). */
export function echoText(result: CallToolResult | undefined): string {
  const first = result?.content[0];
  return first?.type === 'text' ? first.text : '';
}

/** server-everything as the bridge's servers config would define it. */
export function everythingDefinition(name = 'everything'): ServerDefinition {
  return {
    name,
    command: process.execPath,
    args: [EVERYTHING_BIN],
    env: {},
    cwd: undefined,
    description: undefined,
    source: 'bench',
  };
}

/**
 * Direct echo calls, interleaved in blocks with the in-process bridge client so that
 * both meet the same machine load and the same JIT warmth of the SDK code.
 */
export async function directCalls(
  settings: ProxySettings,
  failures: Failures,
): Promise<DirectFigures> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [EVERYTHING_BIN],
    stderr: 'pipe',
  });
  const sdk = new Client({ name: 'run-python-bench-direct', version: '0.0.0' });
  const bridgeClient = new UpstreamClient(everythingDefinition(), createLogger('warn'));
  try {
    await sdk.connect(transport);
    const viaSdk = async () =>
      (await sdk.callTool({ name: 'echo', arguments: { message: 'x' } })) as CallToolResult;
    const viaBridgeClient = () => bridgeClient.callTool('echo', { message: 'x' });
    const timed = async (
      calls: number,
      call: () => Promise<CallToolResult>,
      what: string,
      samples?: number[],
    ): Promise<number> => {
      const t0 = performance.now();
      for (let index = 0; index < calls; index += 1) {
        const start = performance.now();
        const result = await call();
        samples?.push(performance.now() - start);
        const text = echoText(result);
        if (text !== 'Echo: x') failures.add(`${what}: ${JSON.stringify(text.slice(0, 80))}`);
      }
      return performance.now() - t0;
    };
    await timed(settings.directWarmup, viaSdk, 'direct warm-up');
    await timed(settings.directWarmup, viaBridgeClient, 'bridge client warm-up');
    const sdkSamples: number[] = [];
    const bridgeSamples: number[] = [];
    let sdkMs = 0;
    while (sdkSamples.length < settings.calls) {
      const block = Math.min(settings.directBlock, settings.calls - sdkSamples.length);
      sdkMs += await timed(block, viaSdk, 'direct', sdkSamples);
      await timed(block, viaBridgeClient, 'bridge client', bridgeSamples);
    }
    return {
      sdk: summarize(sdkSamples),
      sdkCallsPerSecond: sdkSamples.length / (sdkMs / 1000),
      bridgeClient: summarize(bridgeSamples),
    };
  } finally {
    await sdk.close();
    await bridgeClient.close();
  }
}

// ---------------------------------------------------------------------------------------
// tools/list size

export interface ToolsListSize {
  servers: number;
  tools: string[];
  /** Characters of JSON.stringify of the tools/list result. */
  chars: number;
  /** chars / 4, rounded up. */
  estimatedTokens: number;
}

export interface ToolsListFigures {
  sizes: ToolsListSize[];
  /** The three answers are the same JSON text. */
  identical: boolean;
}

function writeManyServers(stateDir: string, count: number): void {
  const servers = Object.fromEntries(
    Array.from({ length: count }, (_, index) => [
      `server-${index}`,
      {
        command: 'node',
        args: [`/opt/bench/server-${index}.js`],
        description: `Configured server number ${index}, never started`,
      },
    ]),
  );
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify({ mcpServers: servers }));
}

/** tools/list of a bridge with `counts` servers configured; no engine is needed for it. */
export async function toolsListSizes(
  image: string,
  counts: readonly number[],
): Promise<ToolsListFigures> {
  const answers: string[] = [];
  const sizes: ToolsListSize[] = [];
  for (const count of counts) {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-tools-list-'));
    try {
      writeManyServers(stateDir, count);
      // The engine is looked up lazily: listing tools never needs it.
      const bridge = await startBenchBridge('unix:///nonexistent/bench.sock', image, {
        stateDir,
      });
      try {
        const list = await bridge.client.listTools();
        const json = JSON.stringify(list);
        answers.push(json);
        sizes.push({
          servers: count,
          tools: list.tools.map((tool) => tool.name),
          chars: json.length,
          estimatedTokens: Math.ceil(json.length / 4),
        });
      } finally {
        await bridge.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  return { sizes, identical: new Set(answers).size === 1 };
}
