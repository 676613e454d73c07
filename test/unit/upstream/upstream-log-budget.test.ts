import { describe, expect, it } from 'vitest';
import { LogBudget } from '../../../src/upstream/upstream-log-budget.js';

describe('LogBudget', () => {
  it('allows bytes up to the allowance per window, then reports what it suppressed', () => {
    let now = 0;
    const budget = new LogBudget(10, 1_000, () => now);
    expect(budget.take(6)).toBe(true);
    expect(budget.take(6)).toBe(false);
    expect(budget.take(4)).toBe(true);
    const reports: unknown[] = [];
    now = 1_000;
    expect(budget.take(10, (suppressed) => reports.push(suppressed))).toBe(true);
    expect(reports).toEqual([{ items: 1, bytes: 6 }]);
  });
});
