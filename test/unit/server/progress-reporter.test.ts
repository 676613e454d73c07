import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CODE_PROGRESS_INTERVAL_MS,
  HEARTBEAT_INTERVAL_MS,
  ProgressReporter,
  progressReporterFor,
  type ProgressUpdate,
} from '../../../src/server/progress-reporter.js';

function reporter() {
  const sent: ProgressUpdate[] = [];
  const progress = new ProgressReporter(
    (update) => sent.push(update),
    () => Date.now(),
  );
  return { progress, sent };
}

describe('ProgressReporter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends one elapsed-time notification a second with the output so far', () => {
    const { progress, sent } = reporter();
    progress.started();
    progress.output('stdout', 'a\nb\n');
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
    progress.output('stdout', 'c');
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 2);
    expect(sent).toEqual([
      { progress: 1, message: 'b', _meta: { elapsedSeconds: 1, outputLines: 2 } },
      { progress: 2, message: 'c', _meta: { elapsedSeconds: 2, outputLines: 2 } },
      { progress: 3, message: 'c', _meta: { elapsedSeconds: 3, outputLines: 2 } },
    ]);
  });

  it('sends nothing before the cell starts, and leaves out an empty message', () => {
    const { progress, sent } = reporter();
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 3);
    expect(sent).toEqual([]);
    progress.started();
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
    expect(sent).toEqual([{ progress: 1, _meta: { elapsedSeconds: 1, outputLines: 0 } }]);
  });

  it("sends the code's first report at once and folds later ones into the latest", () => {
    const { progress, sent } = reporter();
    progress.started();
    progress.progress({ progress: 1, total: 10, message: 'one' });
    expect(sent).toHaveLength(1);
    for (let i = 2; i <= 1000; i += 1) progress.progress({ progress: i, total: 1000 });
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(CODE_PROGRESS_INTERVAL_MS);
    expect(sent.map(({ progress: value, total }) => [value, total])).toEqual([
      [1, 10],
      [1000, 1000],
    ]);
  });

  it('bounds a flood to one notification per interval', () => {
    const { progress, sent } = reporter();
    progress.started();
    for (let tick = 0; tick < 100; tick += 1) {
      for (let i = 0; i < 1000; i += 1) progress.progress({ progress: tick * 1000 + i });
      vi.advanceTimersByTime(10);
    }
    // 1000 ms of flood: at most one per CODE_PROGRESS_INTERVAL_MS, plus the first.
    expect(sent.length).toBeLessThanOrEqual(1000 / CODE_PROGRESS_INTERVAL_MS + 1);
    expect(sent.at(-1)?.progress).toBeGreaterThan(90_000);
  });

  it('stops its elapsed-time notifications once the code reports', () => {
    const { progress, sent } = reporter();
    progress.started();
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
    progress.progress({ progress: 0.5, total: 1 });
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 5);
    expect(sent.map((update) => update.progress)).toEqual([1, 0.5]);
  });

  it('cuts the code message to 200 characters', () => {
    const { progress, sent } = reporter();
    progress.progress({ progress: 1, message: 'm'.repeat(4096) });
    expect(sent[0]?.message).toBe('m'.repeat(200));
  });

  it('sends nothing after stop, not even a folded report', () => {
    const { progress, sent } = reporter();
    progress.started();
    progress.progress({ progress: 1 });
    progress.progress({ progress: 2 });
    progress.stop();
    progress.progress({ progress: 3 });
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 3);
    expect(sent.map((update) => update.progress)).toEqual([1]);
  });
});

describe('progressReporterFor', () => {
  it('makes none without a progress token', () => {
    const notify = vi.fn(() => Promise.resolve());
    expect(progressReporterFor(undefined, notify, () => undefined)).toBeUndefined();
    expect(progressReporterFor({ token: 1 }, notify, () => undefined)).toBeUndefined();
  });

  it('sends notifications/progress with the token, and reports a failed send', async () => {
    const failure = new Error('closed');
    const notify = vi.fn(() => Promise.reject(failure));
    const errors: unknown[] = [];
    const progress = progressReporterFor('tok', notify, (error) => errors.push(error));
    progress?.progress({ progress: 2, total: 4 });
    expect(notify).toHaveBeenCalledWith({
      method: 'notifications/progress',
      params: {
        progressToken: 'tok',
        progress: 2,
        total: 4,
        _meta: { elapsedSeconds: 0, outputLines: 0 },
      },
    });
    await Promise.resolve();
    expect(errors).toEqual([failure]);
  });
});
