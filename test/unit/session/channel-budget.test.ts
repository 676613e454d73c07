import { describe, expect, it } from 'vitest';
import { Budget, CHANNEL_BUDGETS, LogAllowance } from '../../../src/session/channel-budget.js';

describe('Budget', () => {
  it('admits amounts while they fit, then nothing, saying so once', () => {
    let told = 0;
    const budget = new Budget(10);
    const onExhausted = () => (told += 1);
    expect(budget.take(6, onExhausted)).toBe(true);
    expect(budget.take(4, onExhausted)).toBe(true);
    expect(budget.exhausted).toBe(false);
    expect(budget.take(1, onExhausted)).toBe(false);
    expect(budget.exhausted).toBe(true);
    // Even an amount that would have fitted: once out, out for good.
    expect(budget.take(0, onExhausted)).toBe(false);
    expect(told).toBe(1);
  });
});

describe('LogAllowance', () => {
  it('clips each line and stops at the character budget', () => {
    let told = 0;
    const allowance = new LogAllowance(() => (told += 1));
    const long = 'x'.repeat(CHANNEL_BUDGETS.logLineChars * 3);
    let admitted = 0;
    let chars = 0;
    for (let index = 0; index < 1000; index += 1) {
      const line = allowance.admit(long);
      if (line === undefined) continue;
      expect(line).toHaveLength(CHANNEL_BUDGETS.logLineChars);
      admitted += 1;
      chars += line.length;
    }
    expect(chars).toBeLessThanOrEqual(CHANNEL_BUDGETS.logChars);
    expect(admitted).toBe(Math.floor(CHANNEL_BUDGETS.logChars / CHANNEL_BUDGETS.logLineChars));
    expect(told).toBe(1);
  });

  it('stops at the line budget for short lines', () => {
    let told = 0;
    const allowance = new LogAllowance(() => (told += 1));
    const admitted = Array.from({ length: 1000 }, () => allowance.admit('hi')).filter(
      (line) => line !== undefined,
    );
    expect(admitted).toHaveLength(CHANNEL_BUDGETS.logLines);
    expect(told).toBe(1);
  });
});
