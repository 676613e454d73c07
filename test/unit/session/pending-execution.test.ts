import { describe, expect, it } from 'vitest';
import type { DoneFrame } from '../../../src/channel/frames.js';
import type { ExecutionResult } from '../../../src/session/live-sandbox.js';
import { PendingExecution } from '../../../src/session/pending-execution.js';
import { RpcGate, refuseWithoutServers } from '../../../src/session/rpc-gate.js';

function pending() {
  const results: ExecutionResult[] = [];
  const execution = new PendingExecution(7, 1000, new RpcGate(refuseWithoutServers), (result) =>
    results.push(result),
  );
  return { execution, results };
}

const done = (token: string): DoneFrame => ({
  type: 'done',
  id: 7,
  token,
  exitCode: 0,
  outcome: 'completed',
  dropped: { stdout: 0, stderr: 0 },
  durationMs: 1,
});

describe('PendingExecution', () => {
  it('has a fresh 128-bit token per cell', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => pending().execution.doneToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{32}$/);
  });

  it('ignores a done frame without its token: the cell goes on', () => {
    const { execution, results } = pending();
    expect(execution.finishFromDone(done(''))).toBe(false);
    expect(execution.finishFromDone(done('0'.repeat(32)))).toBe(false);
    expect(execution.finishFromDone(done(`${execution.doneToken}0`))).toBe(false);
    expect(execution.finished).toBe(false);
    expect(results).toEqual([]);
  });

  it('ends the cell with the done frame that carries its token', () => {
    const { execution, results } = pending();
    execution.stdout.append('out\n');
    expect(execution.finishFromDone(done(execution.doneToken))).toBe(true);
    expect(execution.finished).toBe(true);
    expect(results).toMatchObject([{ outcome: 'completed', exitCode: 0, stdout: 'out\n' }]);
  });

  it('reports an interrupted cell that had timed out as a timeout', () => {
    const { execution, results } = pending();
    execution.stopReason = 'timeout';
    execution.finishFromDone({
      ...done(execution.doneToken),
      outcome: 'interrupted',
      exitCode: 130,
    });
    expect(results).toMatchObject([{ outcome: 'timeout', exitCode: 130 }]);
  });
});

describe('PendingExecution: cancellation', () => {
  it('reports an interrupted cell that was cancelled as cancelled, and runs its cleanups once', () => {
    const { execution, results } = pending();
    let cleanups = 0;
    execution.onFinish(() => (cleanups += 1));
    execution.stopReason = 'cancelled';
    execution.finishFromDone({
      ...done(execution.doneToken),
      outcome: 'interrupted',
      exitCode: 130,
    });
    execution.finish({
      outcome: 'died',
      exitCode: undefined,
      durationMs: 0,
      lostReason: 'x',
      outOfMemory: false,
    });
    expect(results).toMatchObject([{ outcome: 'cancelled', exitCode: 130 }]);
    expect(cleanups).toBe(1);
  });
});
