import { expect, it } from 'vitest';
import * as timing from '../../../src/util/call-timing.js';

it('is off until enabled: stamps go nowhere, nothing is recorded', () => {
  expect(timing.callTimingEnabled()).toBe(false);
  timing.beginCallTiming();
  timing.markStage('handler');
  timing.finishCallTiming();
  expect(timing.callTimingEnabled()).toBe(false);
});

it('records the stages of one request, drops notifications, and hands each record over once', () => {
  const records: timing.CallTimingRecord[] = [];
  timing.enableCallTiming((record) => records.push(record));
  // A notification: no response follows, so its record is dropped.
  timing.beginCallTiming();
  timing.noteMessageParsed(false);
  timing.markStage('ignored, no call open');
  // A request in two chunks: the first byte starts it.
  timing.beginCallTiming();
  timing.beginCallTiming();
  timing.noteMessageParsed(true);
  timing.markStage('handler');
  timing.noteRunnerTiming({ exec: 0.5 });
  timing.finishCallTiming();
  timing.finishCallTiming(); // nothing open: nothing more
  expect(records).toHaveLength(1);
  expect(records[0]?.stages.map(([stage]) => stage)).toEqual([
    'stdin',
    'parsed',
    'handler',
    'response written',
  ]);
  expect(records[0]?.runner).toEqual({ exec: 0.5 });
  const times = records[0]?.stages.map(([, at]) => at) ?? [];
  expect([...times].sort((a, b) => a - b)).toEqual(times);
});
