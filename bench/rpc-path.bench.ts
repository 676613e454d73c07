/**
 * `npx tsx bench/rpc-path.bench.ts`: the bridge's own cost of answering one `call_tool`
 * request from the sandbox, without the container. In one process, interleaved in blocks:
 *
 * - direct: the MCP SDK `Client.callTool` (echo) over stdio to its own server-everything;
 * - bridge client: the bridge's `UpstreamClient.callTool` to a second instance, with a
 *   long-lived signal per block as the host path passes its cell's;
 * - host path: the exact bytes of an `rpc_request` line for `call_tool` echo pushed into a
 *   `FrameReader` wired, as `LiveSandbox` wires it, to an `RpcGate` over the real
 *   `sandboxRpcHandler` (from `prepareCallServers`, with `UpstreamRegistry` and
 *   `ServerCatalog`) on a third instance, until the encoded `rpc_response` line exists;
 * - host path, canned: the same with a `ToolCaller` that answers at once with an echo
 *   result, i.e. the host's work alone.
 *
 * Each call is split at the SDK stdio transport: `out` until the request is handed to
 * `StdioClientTransport.send`, `wire` until the reply's bytes reach its `ReadBuffer`
 * (the SDK's serializing and writing, pipe and server), `back` from there to the end.
 * `out + back` is the host's own work around the upstream leg. CPU µs/call is
 * `process.cpuUsage()` of this process over each path's blocks. Prints figures; asserts
 * nothing. Settings: RPC_BENCH_CALLS (default 3000), RPC_BENCH_WARMUP (500),
 * RPC_BENCH_BLOCK (100), RPC_BENCH_MESSAGE (characters of the echoed message, default 1:
 * `x`), RPC_BENCH_ONLY (letters of the paths to run, e.g. `c` or `cd`, for a profile of
 * one path: `node --cpu-prof --import tsx bench/rpc-path.bench.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FrameReader, encodeFrame } from '../src/channel/frame-reader.js';
import type { RpcRequestFrame } from '../src/channel/frames.js';
import { createLogger } from '../src/logger.js';
import { prepareCallServers } from '../src/proxy/call-servers.js';
import type { ToolCaller } from '../src/proxy/sandbox-rpc.js';
import { ServerCatalog } from '../src/proxy/server-catalog.js';
import { RpcGate, type RpcHandler } from '../src/session/rpc-gate.js';
import { SavedToolStore } from '../src/state/saved-tools.js';
import { UpstreamClient } from '../src/upstream/upstream-client.js';
import { UpstreamRegistry } from '../src/upstream/upstream-registry.js';
import { EVERYTHING_BIN, echoText, everythingDefinition } from './proxy-bench.js';
import { summarize, type Summary } from './stats.js';

const SETTINGS = {
  calls: positiveEnv('RPC_BENCH_CALLS', 3000),
  warmup: positiveEnv('RPC_BENCH_WARMUP', 500),
  block: positiveEnv('RPC_BENCH_BLOCK', 100),
  message: 'x'.repeat(positiveEnv('RPC_BENCH_MESSAGE', 1)),
  only: process.env.RPC_BENCH_ONLY ?? 'abcd',
};
const EXEC_ID = 1;
const EXPECTED = `Echo: ${SETTINGS.message}`;

function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

// ---------------------------------------------------------------------------------------
// Marks at the SDK's stdio transport (one call at a time, so one slot each suffices)

const marks = { sent: 0, received: 0 };
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
const originalSend = StdioClientTransport.prototype.send;
StdioClientTransport.prototype.send = function (this: StdioClientTransport, ...args) {
  marks.sent = performance.now();
  return originalSend.apply(this, args);
};
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` below
const originalAppend = ReadBuffer.prototype.append;
ReadBuffer.prototype.append = function (this: ReadBuffer, chunk: Buffer) {
  marks.received = performance.now();
  originalAppend.call(this, chunk);
};

// ---------------------------------------------------------------------------------------
// The paths

interface Sample {
  total: number;
  out: number;
  wire: number;
  back: number;
}

/** One call; resolves with its start time and its end time (when the answer exists). */
type Path = () => Promise<{ start: number; end: number; text: string }>;

/**
 * The host path as LiveSandbox runs it: FrameReader → (rpc_request for the running cell)
 * → RpcGate.answer → rpc_response → encodeFrame. A new gate per block (a cell each), as
 * a cell may make at most RPC_LIMITS.total requests.
 */
function hostPath(rpc: RpcHandler): { call: Path; newCell: () => void } {
  let gate = new RpcGate(rpc);
  let nextId = 1;
  let finish: ((line: string) => void) | undefined;
  const answer = (frame: RpcRequestFrame): void => {
    // LiveSandbox#answerRpc, for the cell that is running.
    if (frame.execId !== EXEC_ID) throw new Error('wrong cell');
    void gate.answer(frame.payload).then((reply) => {
      if (reply) finish?.(encodeFrame({ type: 'rpc_response', id: frame.id, ...reply }));
    });
  };
  const reader = new FrameReader({
    onFrame: (frame) => {
      if (frame.type === 'rpc_request') answer(frame);
      else throw new Error(`unexpected ${frame.type} frame`);
    },
    onInvalid: (reason) => {
      throw new Error(`the bench's own frame was refused: ${reason}`);
    },
  });
  const call: Path = () => {
    const id = nextId++;
    const line = Buffer.from(
      `{"type":"rpc_request","id":${id},"execId":${EXEC_ID},"payload":{"type":"call_tool",` +
        `"server":"everything","tool":"echo","arguments":{"message":"${SETTINGS.message}"}}}\n`,
      'ascii',
    );
    return new Promise((resolve) => {
      let start = 0;
      finish = (encoded) => {
        const end = performance.now();
        const response = JSON.parse(encoded) as {
          id: number;
          success: boolean;
          payload?: { result?: CallToolResult };
          error?: string;
        };
        const text =
          response.id !== id
            ? `wrong id ${response.id}`
            : response.success
              ? echoText(response.payload?.result)
              : `error: ${response.error}`;
        resolve({ start, end, text });
      };
      start = performance.now();
      reader.push(line);
    });
  };
  return {
    call,
    newCell: () => {
      gate.close();
      gate = new RpcGate(rpc);
    },
  };
}

function sdkPath(call: () => Promise<CallToolResult>): Path {
  return async () => {
    const start = performance.now();
    const result = await call();
    const end = performance.now();
    return { start, end, text: echoText(result) };
  };
}

// ---------------------------------------------------------------------------------------
// Measuring

interface Entry {
  key: string;
  label: string;
  path: Path;
  /** Whether the call goes through the SDK's stdio transport (so out/wire/back exist). */
  transport: boolean;
  newCell?: () => void;
}

interface PathFigures {
  samples: Sample[];
  cpuMicros: number;
  wrong: number;
  firstWrong?: string;
}

async function runBlock(
  path: Path,
  calls: number,
  figures: PathFigures | undefined,
  usesTransport: boolean,
): Promise<void> {
  const cpu = process.cpuUsage();
  for (let index = 0; index < calls; index += 1) {
    marks.sent = 0;
    marks.received = 0;
    const { start, end, text } = await path();
    if (!figures) continue;
    if (text !== EXPECTED) {
      figures.wrong += 1;
      figures.firstWrong ??= text.slice(0, 100);
    }
    const total = end - start;
    if (usesTransport && marks.sent >= start && marks.received >= marks.sent) {
      figures.samples.push({
        total,
        out: marks.sent - start,
        wire: marks.received - marks.sent,
        back: end - marks.received,
      });
    } else figures.samples.push({ total, out: Number.NaN, wire: Number.NaN, back: Number.NaN });
  }
  if (figures) {
    const used = process.cpuUsage(cpu);
    figures.cpuMicros += used.user + used.system;
  }
}

/** Milliseconds as µs with one decimal: these figures are tens of µs. */
function us(milliseconds: number): string {
  return Number.isFinite(milliseconds) ? `${(milliseconds * 1000).toFixed(1)} µs` : 'n/a';
}

function column(samples: readonly Sample[], key: keyof Sample): Summary {
  return summarize(samples.map((sample) => sample[key]).filter((value) => !Number.isNaN(value)));
}

function line(label: string, figures: PathFigures, withLegs: boolean): string {
  const total = column(figures.samples, 'total');
  const parts = [
    `${label.padEnd(22)} p50 ${us(total.p50).padStart(9)}  p90 ${us(total.p90).padStart(9)}`,
    `cpu ${(figures.cpuMicros / figures.samples.length).toFixed(1).padStart(6)} µs/call`,
  ];
  if (withLegs) {
    const out = column(figures.samples, 'out');
    const wire = column(figures.samples, 'wire');
    const back = column(figures.samples, 'back');
    parts.push(
      `out ${us(out.p50)} · wire ${us(wire.p50)} · back ${us(back.p50)} (p50s)`,
      `out+back p50 ${us(summarize(figures.samples.map((s) => s.out + s.back)).p50)}`,
    );
  }
  if (figures.wrong > 0) parts.push(`WRONG ${figures.wrong}: ${figures.firstWrong ?? ''}`);
  return parts.join('  ');
}

async function main(): Promise<void> {
  const logger = createLogger('warn');
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rpc-path-bench-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [EVERYTHING_BIN],
    stderr: 'pipe',
  });
  const sdk = new Client({ name: 'rpc-path-bench', version: '0.0.0' });
  const bridgeClient = new UpstreamClient(everythingDefinition(), logger);
  const registry = new UpstreamRegistry([everythingDefinition()], logger);
  try {
    await sdk.connect(transport);
    // The bridge lists a server's tools before a cell may call it; the SDK client then
    // has the tools' output schemas, as it does in the bridge. The direct client too.
    await sdk.listTools();
    await bridgeClient.tools();
    const catalog = new ServerCatalog({
      definitions: [everythingDefinition()],
      lister: registry,
      stateDir,
      logger,
    });
    const savedTools = new SavedToolStore(stateDir, logger);
    const prepared = await prepareCallServers(['everything'], {
      catalog,
      caller: registry,
      savedTools,
      session: 'default',
    });
    const cannedCaller: ToolCaller = {
      callTool: (_server, _tool, args) =>
        Promise.resolve({ content: [{ type: 'text', text: `Echo: ${String(args.message)}` }] }),
    };
    const canned = await prepareCallServers(['everything'], {
      catalog,
      caller: cannedCaller,
      savedTools,
      session: 'default',
    });

    const host = hostPath(prepared.rpc);
    const hostCanned = hostPath(canned.rpc);
    let cell = new AbortController();
    const all: Entry[] = [
      {
        key: 'a',
        label: '(a) direct SDK',
        path: sdkPath(
          async () =>
            (await sdk.callTool({
              name: 'echo',
              arguments: { message: SETTINGS.message },
            })) as CallToolResult,
        ),
        transport: true,
      },
      {
        key: 'b',
        label: '(b) bridge client',
        path: sdkPath(() =>
          bridgeClient.callTool('echo', { message: SETTINGS.message }, { signal: cell.signal }),
        ),
        newCell: () => {
          cell.abort();
          cell = new AbortController();
        },
        transport: true,
      },
      { key: 'c', label: '(c) host path', path: host.call, transport: true, newCell: host.newCell },
      {
        key: 'd',
        label: '(d) host path, canned',
        path: hostCanned.call,
        transport: false,
        newCell: hostCanned.newCell,
      },
    ];
    const paths = all.filter((entry) => SETTINGS.only.includes(entry.key));
    for (const entry of paths) {
      await runBlock(entry.path, SETTINGS.warmup, undefined, entry.transport);
      entry.newCell?.();
    }
    const figures = new Map<string, PathFigures>(
      paths.map((entry) => [entry.key, { samples: [], cpuMicros: 0, wrong: 0 }]),
    );
    const started = performance.now();
    for (let done = 0; done < SETTINGS.calls; done += SETTINGS.block) {
      const calls = Math.min(SETTINGS.block, SETTINGS.calls - done);
      for (const entry of paths) {
        await runBlock(entry.path, calls, figures.get(entry.key), entry.transport);
        entry.newCell?.();
      }
    }
    const seconds = (performance.now() - started) / 1000;

    console.log(
      `rpc path: ${SETTINGS.calls} calls per path after ${SETTINGS.warmup} warm-up, blocks of ` +
        `${SETTINGS.block}, interleaved, message of ${SETTINGS.message.length} chars ` +
        `(${seconds.toFixed(1)} s); load ${os
          .loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}`,
    );
    for (const entry of paths) {
      const entryFigures = figures.get(entry.key);
      if (entryFigures) console.log(line(entry.label, entryFigures, entry.transport));
    }
    const direct = figures.get('a');
    const client = figures.get('b');
    const hostFigures = figures.get('c');
    const cannedFigures = figures.get('d');
    const p50 = (f: PathFigures) => column(f.samples, 'total').p50;
    const outBack = (f: PathFigures) => summarize(f.samples.map((s) => s.out + s.back)).p50;
    const cpu = (f: PathFigures) => f.cpuMicros / f.samples.length;
    if (hostFigures && cannedFigures && direct) {
      console.log(
        `host path minus upstream leg: out+back p50 ${us(outBack(hostFigures))} ` +
          `(the direct SDK call's own: ${us(outBack(direct))}); canned host path ` +
          `p50 ${us(p50(cannedFigures))}, cpu ${cpu(cannedFigures).toFixed(1)} µs/call; ` +
          `cpu (c) − (a) ${(cpu(hostFigures) - cpu(direct)).toFixed(1)} µs/call`,
      );
    }
    if (direct && client && hostFigures) {
      console.log(
        `ratios of p50: (b)/(a) ${(p50(client) / p50(direct)).toFixed(2)}×  ` +
          `(c)/(a) ${(p50(hostFigures) / p50(direct)).toFixed(2)}×  ` +
          `(c) − (b) ${us(p50(hostFigures) - p50(client))}`,
      );
    }
  } finally {
    await sdk.close();
    await bridgeClient.close();
    await registry.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
