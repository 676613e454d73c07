import { expect, it } from 'vitest';
import * as timing from '../../../src/util/rpc-timing.js';

it('is off until enabled: stamps go nowhere, nothing is summarized', () => {
  const summaries: timing.RpcTimingSummary[] = [];
  timing.beginRpcTiming();
  timing.markRpcStage('sent');
  timing.finishRpcTiming();
  timing.flushRpcTiming();
  expect(summaries).toEqual([]);
});

it('summarizes the tool calls of a cell, first and last 100, and forgets them at its end', () => {
  const summaries: timing.RpcTimingSummary[] = [];
  timing.enableRpcTiming((summary) => summaries.push(summary));
  // A request that is not a tool call (no `sent`): not kept.
  timing.beginRpcTiming();
  timing.markRpcStage('validated');
  timing.finishRpcTiming();
  timing.flushRpcTiming();
  expect(summaries).toEqual([]);
  for (let call = 0; call < 250; call += 1) {
    timing.beginRpcTiming();
    timing.beginRpcTiming(); // a second frame while one is open is not timed
    for (const stage of timing.RPC_STAGES.slice(1, -1)) timing.markRpcStage(stage);
    timing.finishRpcTiming();
  }
  timing.flushRpcTiming();
  expect(summaries).toHaveLength(1);
  expect(summaries[0]?.calls).toBe(250);
  const steps = Object.keys(summaries[0]?.first100 ?? {});
  expect(steps[0]).toBe('frame in → validated');
  expect(steps.at(-1)).toBe('audited → frame out');
  expect(steps).toHaveLength(timing.RPC_STAGES.length - 1);
  for (const value of Object.values(summaries[0]?.last100 ?? {})) {
    expect(value).toBeGreaterThanOrEqual(0);
  }
  timing.flushRpcTiming(); // nothing since: no second summary
  expect(summaries).toHaveLength(1);
});

it('takes the median of each step that every record has', () => {
  const record = (times: Partial<Record<timing.RpcStage, number>>) =>
    new Map(Object.entries(times) as [timing.RpcStage, number][]);
  const medians = timing.stepMedians([
    record({ 'frame in': 0, validated: 1, sent: 3, 'frame out': 10 }),
    record({ 'frame in': 0, validated: 2, sent: 3, 'frame out': 4 }),
    record({ 'frame in': 0, validated: 3, 'frame out': 5 }),
  ]);
  // `sent` is missing from one record: the step spans validated → frame out instead.
  expect(medians).toEqual({ 'frame in → validated': 2, 'validated → frame out': 2 });
});
