/**
 * Where a call's time goes, for the bench's breakdown (MCP_BRIDGE_TIMING=1). Off, which
 * is the normal case, `markStage` is an empty function and nothing else here runs: no
 * clock reads, no allocations, no extra frames. On, the composition root hands it a sink
 * (the log), and each stage of the call in flight is stamped with performance.now().
 *
 * Calls are timed one at a time (the bench sends them sequentially): a stage stamped
 * while no call is open is ignored, and a new call's first byte starts a new record.
 */

/** One call: each stage and when it was reached (ms, performance.now()). */
export interface CallTimingRecord {
  stages: [stage: string, at: number][];
  /** Milliseconds per step of the cell, as the runner measured them (its own clock). */
  runner: Record<string, number> | undefined;
}

type Sink = (record: CallTimingRecord) => void;

let sink: Sink | undefined;
let open: CallTimingRecord | undefined;

function noop(): void {}

function stamp(stage: string): void {
  open?.stages.push([stage, performance.now()]);
}

/** Stamps a stage of the call in flight (a no-op unless timing is on). */
export let markStage: (stage: string) => void = noop;

/** Turns timing on for this process; `onRecord` gets each finished call. */
export function enableCallTiming(onRecord: Sink): void {
  sink = onRecord;
  markStage = stamp;
}

export function callTimingEnabled(): boolean {
  return sink !== undefined;
}

/** Bytes arrived on stdin: the first of a request starts its record. */
export function beginCallTiming(): void {
  if (!sink || open) return; // more bytes of the request already open
  open = { stages: [['stdin', performance.now()]], runner: undefined };
}

/** The message is parsed; a notification gets no response, so its record is dropped. */
export function noteMessageParsed(isRequest: boolean): void {
  if (!open) return;
  if (isRequest) stamp('parsed');
  else open = undefined;
}

/** The runner's own figures for the cell (from its `done` frame). */
export function noteRunnerTiming(runner: Record<string, number> | undefined): void {
  if (open && runner) open.runner = runner;
}

/** The response is written: hands the record to the sink. */
export function finishCallTiming(): void {
  const record = open;
  if (!sink || !record) return;
  stamp('response written');
  open = undefined;
  sink(record);
}
