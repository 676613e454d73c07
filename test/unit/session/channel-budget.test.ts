import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Budget, CHANNEL_BUDGETS, LogAllowance } from '../../../src/session/channel-budget.js';
import { frameAllowedFrom } from '../../../src/session/sandbox-link.js';
import { SandboxLog } from '../../../src/session/sandbox-log.js';

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

describe('SandboxLog', () => {
  /** A pino logger writing JSON lines into `lines`. */
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    return { lines, log: new SandboxLog(logger) };
  }

  it('logs a flood of log frames, invalid lines and stderr within a bounded size', () => {
    const { lines, log } = capture();
    const message = 'forged '.repeat(300);
    for (let index = 0; index < 20_000; index += 1) {
      log.frame({ type: 'log', level: 'error', message });
      log.invalid('not JSON', message.slice(0, 200));
      log.stderr(message);
    }
    const size = lines.reduce((total, line) => total + JSON.stringify(line).length, 0);
    expect(size).toBeLessThan(3 * (CHANNEL_BUDGETS.logChars + CHANNEL_BUDGETS.logLines * 200));
    const notices = lines.map((line) => line.msg).filter((msg) => /further/.test(String(msg)));
    expect(notices.sort()).toEqual([
      'sandbox: further invalid lines from this sandbox are not logged',
      'sandbox: further log frames from this sandbox are not logged',
      'sandbox: further stderr writes from this sandbox are not logged',
    ]);
  });

  it('logs a log frame at its own level', () => {
    const { lines, log } = capture();
    log.frame({ type: 'log', level: 'info', message: 'socket lane unavailable' });
    expect(lines).toMatchObject([{ level: 30, sandbox: true, msg: 'socket lane unavailable' }]);
  });
});

describe('frameAllowedFrom', () => {
  it('takes everything from stdout while no lane is in use', () => {
    for (const type of ['ready', 'stdout', 'done', 'rpc_request', 'log', 'exited'] as const)
      expect(frameAllowedFrom(type, 'stdout', false)).toBe(true);
  });

  it("with the lane in use, takes only the watcher's frames from stdout", () => {
    expect(frameAllowedFrom('exited', 'stdout', true)).toBe(true);
    expect(frameAllowedFrom('log', 'stdout', true)).toBe(true);
    for (const type of ['ready', 'stdout', 'stderr', 'done', 'rpc_request'] as const)
      expect(frameAllowedFrom(type, 'stdout', true)).toBe(false);
  });

  it('never takes exited from the lane (the watcher does not write there)', () => {
    expect(frameAllowedFrom('exited', 'lane', true)).toBe(false);
    expect(frameAllowedFrom('done', 'lane', true)).toBe(true);
  });
});
