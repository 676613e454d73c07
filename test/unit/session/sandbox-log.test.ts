import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CHANNEL_BUDGETS } from '../../../src/session/channel-budget.js';
import { SandboxLog } from '../../../src/session/sandbox-log.js';

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
