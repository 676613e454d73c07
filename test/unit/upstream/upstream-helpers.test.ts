import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RestartBackoff } from '../../../src/upstream/upstream-backoff.js';
import { requestFailure } from '../../../src/upstream/upstream-failures.js';
import { LogBudget } from '../../../src/upstream/upstream-log-budget.js';
import {
  commandLine,
  formatDuration,
  stderrExcerpt,
} from '../../../src/upstream/upstream-messages.js';
import { StderrTail } from '../../../src/upstream/upstream-stderr.js';

describe('commandLine', () => {
  it('quotes what a shell would need quoted', () => {
    expect(commandLine({ command: 'npx', args: ['-y', '@scope/server', '/tmp/my folder'] })).toBe(
      "npx -y @scope/server '/tmp/my folder'",
    );
  });

  it('masks values of secret-looking flags and token-shaped strings', () => {
    expect(
      commandLine({
        command: 'server',
        args: ['--api-key', 'abc123', '--token=xyz', 'ghp_abcdefghijklmnop', '--port', '80'],
      }),
    ).toBe('server --api-key *** --token=*** *** --port 80');
  });
});

describe('message helpers', () => {
  it('formats durations and stderr excerpts', () => {
    expect(formatDuration(300)).toBe('300 ms');
    expect(formatDuration(30_000)).toBe('30 s');
    expect(formatDuration(2_500)).toBe('2.5 s');
    expect(stderrExcerpt([])).toBe(' It wrote nothing to stderr.');
    expect(stderrExcerpt(['a', 'b'])).toBe(' Its last stderr lines:\n  a\n  b');
  });
});

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

describe('StderrTail', () => {
  it('logs lines at debug, keeps the last 20, and joins lines split across chunks', () => {
    const logged: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => logged.push(line) });
    const stream = new PassThrough();
    const tail = new StderrTail(stream, logger);
    stream.write('first li');
    stream.write('ne\n\n  \r\n');
    for (let index = 0; index < 30; index += 1) stream.write(`line ${index}\n`);
    stream.write('unfinished');
    expect(tail.lastLines()).toHaveLength(20);
    expect(tail.lastLines().at(-1)).toBe('unfinished');
    expect(tail.lastLines().at(-2)).toBe('line 29');
    const first = JSON.parse(logged[0] ?? '{}') as { stderr?: string; level?: number };
    expect(first).toMatchObject({ stderr: 'first line', level: 20 });
    expect(logged).toHaveLength(31);
  });

  it('cuts very long lines', () => {
    const stream = new PassThrough();
    const tail = new StderrTail(stream, pino({ level: 'silent' }));
    stream.write(`${'x'.repeat(100_000)}\n`);
    expect(tail.lastLines()[0]?.length).toBeLessThan(600);
  });
});

describe('RestartBackoff', () => {
  it('waits schedule[n-1] after the n-th failure in a row, repeating the last entry', () => {
    let now = 0;
    const backoff = new RestartBackoff([0, 1_000, 5_000], () => now);
    expect(backoff.refusal()).toBeUndefined();
    backoff.recordFailure('exited unexpectedly\nmore detail');
    expect(backoff.remainingMs()).toBe(0);
    backoff.recordFailure('exited unexpectedly');
    expect(backoff.remainingMs()).toBe(1_000);
    expect(backoff.refusal()).toBe(
      'failed 2 times in a row (last: exited unexpectedly). ' +
        'It can be retried in 1 s (after 1970-01-01T00:00:01.000Z).',
    );
    now = 1_000;
    backoff.recordFailure('x');
    backoff.recordFailure('x');
    expect(backoff.remainingMs()).toBe(5_000);
    backoff.reset();
    expect(backoff.remainingMs()).toBe(0);
  });
});

describe('requestFailure', () => {
  const context = {
    what: "'slow'",
    cancelled: false,
    timeoutMs: 60_000,
    restart: 'it will be restarted on next use',
  };
  const failed = (killedBy?: NodeJS.Signals) => ({
    exited: true,
    killedBy,
    lastTransportError: undefined,
    stderrLines: [],
  });

  it('says a server killed by a signal was killed, naming the signal', () => {
    const error = requestFailure('fixture', failed('SIGKILL'), new Error('closed'), context);
    expect(error.code).toBe('upstream_crashed');
    expect(error.message).toBe(
      "MCP server 'fixture' was killed by SIGKILL while 'slow' was running; it will be restarted on next use. It wrote nothing to stderr.",
    );
  });

  it('says a server that ended by itself exited', () => {
    const error = requestFailure('fixture', failed(), new Error('closed'), context);
    expect(error.message).toMatch(/^MCP server 'fixture' exited while 'slow' was running/);
  });
});
