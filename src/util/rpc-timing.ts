/**
 * Where a proxied call's time goes on the bridge (MCP_BRIDGE_TIMING=1, like call-timing.ts):
 * each `call_tool` request of the sandbox is stamped at its stages, from the rpc frame
 * parsed to the answer frame written, including the upstream leg's own steps (request
 * written to the server's stdin, its response read, the SDK's checks of it). At the end
 * of each cell the medians of every step are logged for its first and last 100 calls
 * (bench/README.md reads them). Off, which is the normal case, every function here is
 * an empty one: no clock reads, no allocations.
 *
 * Requests are timed one at a time (the bench sends them sequentially): a request that
 * arrives while another is open is not timed, and the stamps of concurrent ones would
 * mix, so figures from concurrent calls mean nothing.
 */

/** The steps, in order; `frame in` is where a record starts. */
export const RPC_STAGES = [
  'frame in',
  'validated',
  'sent',
  'request written',
  'response in',
  'answered',
  'audited',
  'frame out',
] as const;

export type RpcStage = (typeof RPC_STAGES)[number];

export interface RpcTimingSummary {
  calls: number;
  /** Median ms of each step ("from → to") over the cell's first and last 100 calls. */
  first100: Record<string, number>;
  last100: Record<string, number>;
}

type Sink = (summary: RpcTimingSummary) => void;

const BLOCK = 100;
/** Calls whose stamps are kept per cell: the first block and a ring of the last one. */
let sink: Sink | undefined;
let open: Map<RpcStage, number> | undefined;
let first: Map<RpcStage, number>[] = [];
let last: Map<RpcStage, number>[] = [];
let count = 0;

function noop(): void {}

/** Stamps a stage of the proxied call in flight (a no-op unless timing is on). */
export let markRpcStage: (stage: RpcStage) => void = noop;
/** An rpc frame arrived: opens a record if none is open. */
export let beginRpcTiming: () => void = noop;
/** The answer frame is written: keeps the record if it was a tool call. */
export let finishRpcTiming: () => void = noop;
/** The cell ended: hands the summary of its tool calls to the sink, if it made any. */
export let flushRpcTiming: () => void = noop;

export function enableRpcTiming(onSummary: Sink): void {
  sink = onSummary;
  markRpcStage = (stage) => open?.set(stage, performance.now());
  beginRpcTiming = () => {
    if (!open) open = new Map([['frame in', performance.now()]]);
  };
  finishRpcTiming = () => {
    const record = open;
    open = undefined;
    if (!record?.has('sent')) return; // not a tool call
    record.set('frame out', performance.now());
    count += 1;
    if (first.length < BLOCK) first.push(record);
    else {
      last.push(record);
      if (last.length > BLOCK) last.shift();
    }
  };
  flushRpcTiming = () => {
    open = undefined;
    if (count > 0) {
      sink?.({
        calls: count,
        first100: stepMedians(first),
        last100: stepMedians(last.length > 0 ? last : first),
      });
    }
    first = [];
    last = [];
    count = 0;
  };
}

/** The median of each step between consecutive stages that every record has. */
export function stepMedians(records: Map<RpcStage, number>[]): Record<string, number> {
  const medians: Record<string, number> = {};
  let previous: RpcStage | undefined;
  for (const stage of RPC_STAGES) {
    if (!records.every((record) => record.has(stage))) continue;
    if (previous) {
      const from = previous;
      const steps = records
        .map((record) => (record.get(stage) ?? 0) - (record.get(from) ?? 0))
        .sort((a, b) => a - b);
      const middle = steps[Math.floor(steps.length / 2)] ?? 0;
      medians[`${from} → ${stage}`] = Number(middle.toFixed(4));
    }
    previous = stage;
  }
  return medians;
}
