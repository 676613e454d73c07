import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StderrTail } from '../../../src/upstream/upstream-stderr.js';

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
