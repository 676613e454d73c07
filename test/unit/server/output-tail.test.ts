import { describe, expect, it } from 'vitest';
import { cut, OutputTail, SHOWN_LINE_CHARS } from '../../../src/server/output-tail.js';

describe('OutputTail', () => {
  it('counts lines of both streams and shows the last stdout line', () => {
    const tail = new OutputTail();
    tail.add('stdout', 'one\ntwo\n');
    tail.add('stderr', 'warning\n');
    expect(tail.lines).toBe(3);
    expect(tail.lastLine).toBe('two');
  });

  it('joins a line written in pieces and shows it while it is being written', () => {
    const tail = new OutputTail();
    tail.add('stdout', 'done\nload');
    expect(tail.lastLine).toBe('load');
    tail.add('stdout', 'ing 50%');
    expect(tail.lastLine).toBe('loading 50%');
    tail.add('stdout', '\n');
    expect(tail.lastLine).toBe('loading 50%');
    expect(tail.lines).toBe(2);
  });

  it('shows what a terminal shows of a progress bar written with carriage returns', () => {
    const tail = new OutputTail();
    tail.add('stdout', '\r 10%');
    tail.add('stdout', '\r 20%');
    expect(tail.lastLine).toBe(' 20%');
    tail.add('stdout', '\r 30%\r');
    expect(tail.lastLine).toBe(' 30%');
  });

  it('takes \\r\\n as a line end, and skips blank lines', () => {
    const tail = new OutputTail();
    tail.add('stdout', 'kept\r\n\r\n   \n');
    expect(tail.lastLine).toBe('kept');
    expect(tail.lines).toBe(3);
  });

  it('ignores stderr for the shown line', () => {
    const tail = new OutputTail();
    tail.add('stdout', 'out\n');
    tail.add('stderr', 'err\npartial');
    expect(tail.lastLine).toBe('out');
  });

  it('cuts the shown line to 200 characters and holds little of a huge line', () => {
    const tail = new OutputTail();
    for (let i = 0; i < 100; i += 1) tail.add('stdout', 'x'.repeat(65_536));
    expect(tail.lastLine).toBe('x'.repeat(SHOWN_LINE_CHARS));
    tail.add('stdout', '\n');
    expect(tail.lastLine).toHaveLength(SHOWN_LINE_CHARS);
  });
});

describe('cut', () => {
  it('never ends on half a surrogate pair', () => {
    expect(cut(`${'a'.repeat(199)}😀`, 200)).toBe('a'.repeat(199));
    expect(cut('short', 200)).toBe('short');
  });
});
