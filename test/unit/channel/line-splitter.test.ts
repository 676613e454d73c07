import { describe, it, expect } from 'vitest';
import { LineSplitter } from '../../../src/channel/line-splitter.js';

function collect(maxLineBytes = 1024) {
  const lines: string[] = [];
  const oversized: number[] = [];
  const splitter = new LineSplitter({
    maxLineBytes,
    onLine: (line) => lines.push(line),
    onOversized: (bytes) => oversized.push(bytes),
  });
  return { splitter, lines, oversized };
}

describe('LineSplitter', () => {
  it('joins a line split across several chunks', () => {
    const { splitter, lines } = collect();
    splitter.push(Buffer.from('hel'));
    splitter.push(Buffer.from('lo wo'));
    expect(lines).toEqual([]);
    splitter.push(Buffer.from('rld\n'));
    expect(lines).toEqual(['hello world']);
  });

  it('delivers several lines from one chunk, keeping the unfinished tail', () => {
    const { splitter, lines } = collect();
    splitter.push(Buffer.from('one\ntwo\nthree\nfour'));
    expect(lines).toEqual(['one', 'two', 'three']);
    splitter.push(Buffer.from('\n'));
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
  });

  it('does not emit a line until its newline arrives', () => {
    const { splitter, lines } = collect();
    splitter.push(Buffer.from('no newline yet'));
    expect(lines).toEqual([]);
  });

  it('decodes multi-byte UTF-8 characters split across chunks', () => {
    const { splitter, lines } = collect();
    const bytes = Buffer.from('é€😀 ok\n', 'utf8');
    // Push one byte at a time: every multi-byte sequence is cut somewhere.
    for (const byte of bytes) splitter.push(Buffer.from([byte]));
    expect(lines).toEqual(['é€😀 ok']);
  });

  it('decodes a 4-byte character cut in the middle between two chunks', () => {
    const { splitter, lines } = collect();
    const bytes = Buffer.from('a😀b\n', 'utf8');
    splitter.push(bytes.subarray(0, 3));
    splitter.push(bytes.subarray(3));
    expect(lines).toEqual(['a😀b']);
  });

  it('reports empty lines as empty strings', () => {
    const { splitter, lines } = collect();
    splitter.push(Buffer.from('\n\na\n\n'));
    expect(lines).toEqual(['', '', 'a', '']);
  });

  it('accepts a line of exactly the maximum length', () => {
    const { splitter, lines, oversized } = collect(8);
    splitter.push(Buffer.from('12345678\n'));
    expect(lines).toEqual(['12345678']);
    expect(oversized).toEqual([]);
  });

  it('counts the maximum in bytes, not characters', () => {
    const { splitter, lines, oversized } = collect(4);
    // 3 characters, 6 bytes.
    splitter.push(Buffer.from('ééé\n', 'utf8'));
    expect(lines).toEqual([]);
    expect(oversized).toEqual([6]);
  });

  it('reports an oversized line with its byte count and keeps delivering the next lines', () => {
    const { splitter, lines, oversized } = collect(8);
    splitter.push(Buffer.from('before\n123456789\nafter\n'));
    expect(lines).toEqual(['before', 'after']);
    expect(oversized).toEqual([9]);
  });

  it('detects a line growing past the maximum over several chunks', () => {
    const { splitter, lines, oversized } = collect(10);
    splitter.push(Buffer.from('ok\nabcd'));
    splitter.push(Buffer.from('efgh'));
    expect(oversized).toEqual([]);
    splitter.push(Buffer.from('ijkl'));
    splitter.push(Buffer.from('mnop'));
    // Reported once, when the oversized line ends, with every byte it had.
    expect(oversized).toEqual([]);
    splitter.push(Buffer.from('qr\nnext\n'));
    expect(oversized).toEqual([18]);
    expect(lines).toEqual(['ok', 'next']);
  });

  it('reports each oversized line separately and does not leak bytes into the next line', () => {
    const { splitter, lines, oversized } = collect(3);
    splitter.push(Buffer.from('aaaa\nbbbbb'));
    splitter.push(Buffer.from('b\nxy\n'));
    expect(oversized).toEqual([4, 6]);
    expect(lines).toEqual(['xy']);
  });

  it('copies the bytes it keeps, so the caller may reuse its buffer after push', () => {
    const { splitter, lines } = collect();
    const buffer = Buffer.from('abc');
    splitter.push(buffer);
    buffer.write('XYZ');
    splitter.push(Buffer.from('def\n'));
    expect(lines).toEqual(['abcdef']);

    // Same with a single pending piece (no concatenation needed at the end).
    const reused = Buffer.from('ghi');
    splitter.push(reused);
    reused.fill(0x21);
    splitter.push(Buffer.from('\n'));
    expect(lines).toEqual(['abcdef', 'ghi']);
  });
});
