import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CellClock } from '../../../src/session/cell-clock.js';

describe('CellClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires after its time', () => {
    const fired = vi.fn();
    new CellClock(1000, fired);
    vi.advanceTimersByTime(999);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('does not count held time, and nested holds release with the last', () => {
    const fired = vi.fn();
    const clock = new CellClock(1000, fired);
    vi.advanceTimersByTime(600);
    const first = clock.hold();
    const second = clock.hold();
    vi.advanceTimersByTime(10_000);
    first();
    first(); // a second release of the same hold does nothing
    vi.advanceTimersByTime(10_000);
    expect(fired).not.toHaveBeenCalled();
    second();
    expect(clock.held).toBe(false);
    vi.advanceTimersByTime(399);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('never fires once stopped, held or not', () => {
    const fired = vi.fn();
    const clock = new CellClock(100, fired);
    const release = clock.hold();
    clock.stop();
    release();
    vi.advanceTimersByTime(1000);
    expect(fired).not.toHaveBeenCalled();
  });
});
