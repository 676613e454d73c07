import { describe, it, expect } from 'vitest';
import { OutputCollector } from '../../../src/session/output-collector.js';

const MARKER =
  /\[output truncated: ([\d,]+) more characters dropped; the limit is ([\d,]+) per stream per call \(MCP_BRIDGE_OUTPUT_LIMIT\)\]\n$/;

function droppedIn(text: string): number | undefined {
  const match = MARKER.exec(text);
  return match ? Number(match[1]?.replace(/,/g, '')) : undefined;
}

describe('OutputCollector', () => {
  it('returns the text unchanged under the cap', () => {
    const collector = new OutputCollector(10);
    collector.append('abc');
    collector.append('de\n');
    expect(collector.text()).toBe('abcde\n');
  });

  it('returns an empty string when nothing was appended', () => {
    expect(new OutputCollector(10).text()).toBe('');
  });

  it('keeps text of exactly the cap with no marker', () => {
    const collector = new OutputCollector(10);
    collector.append('0123456789');
    expect(collector.text()).toBe('0123456789');
    // Exactly at the cap over several appends, too.
    const split = new OutputCollector(10);
    split.append('01234');
    split.append('56789');
    expect(split.text()).toBe('0123456789');
  });

  it('truncates one oversized append and says how much was dropped', () => {
    const collector = new OutputCollector(10);
    collector.append('0123456789abc');
    const text = collector.text();
    expect(text.startsWith('0123456789\n[output truncated')).toBe(true);
    expect(droppedIn(text)).toBe(3);
  });

  it('truncates over several appends, counting every dropped character', () => {
    const collector = new OutputCollector(10);
    collector.append('012345');
    collector.append('6789ab'); // 2 dropped
    collector.append('cdef'); // 4 dropped, no room left
    collector.append('g'); // 1 dropped
    const text = collector.text();
    expect(text.startsWith('0123456789\n')).toBe(true);
    expect(droppedIn(text)).toBe(7);
  });

  it('adds the count the sandbox dropped itself', () => {
    const collector = new OutputCollector(10);
    collector.append('0123456789xy');
    expect(droppedIn(collector.text(40))).toBe(42);
  });

  it('adds a marker when only the sandbox dropped output', () => {
    const collector = new OutputCollector(100);
    collector.append('partial\n');
    const text = collector.text(1_234_567);
    expect(text.startsWith('partial\n[output truncated')).toBe(true);
    expect(text).toContain('1,234,567 more characters dropped');
    expect(droppedIn(text)).toBe(1_234_567);
  });

  it('names the limit and MCP_BRIDGE_OUTPUT_LIMIT in the marker', () => {
    const collector = new OutputCollector(1_048_576);
    const text = collector.text(5);
    expect(text).toContain('MCP_BRIDGE_OUTPUT_LIMIT');
    expect(text).toContain('1,048,576');
    expect(text).toContain('5 more characters dropped');
  });

  it('puts the marker on its own line', () => {
    const noNewline = new OutputCollector(4);
    noNewline.append('abcdef');
    expect(noNewline.text().split('\n')[0]).toBe('abcd');
    expect(noNewline.text().split('\n')[1]).toMatch(/^\[output truncated/);

    const endsWithNewline = new OutputCollector(4);
    endsWithNewline.append('abc\nef');
    expect(endsWithNewline.text()).toMatch(/^abc\n\[output truncated/);

    const empty = new OutputCollector(4);
    expect(empty.text(3)).toMatch(/^\[output truncated: 3 more/);
  });

  it('never keeps more than the cap, however much is appended', () => {
    const collector = new OutputCollector(1000);
    for (let i = 0; i < 10_000; i += 1) collector.append('x'.repeat(100));
    const text = collector.text();
    expect(text.replace(MARKER, '')).toBe(`${'x'.repeat(1000)}\n`);
    expect(droppedIn(text)).toBe(999_000);
  });

  it('does not cut a surrogate pair in half at the cap', () => {
    const collector = new OutputCollector(3);
    collector.append('ab😀c');
    const kept = collector.text().split('\n')[0] ?? '';
    expect(kept).toBe('ab');
    expect(droppedIn(collector.text())).toBe(3);
    // The cell freed by the half pair is not reused: later text would follow the gap.
    collector.append('z');
    expect(collector.text().split('\n')[0]).toBe('ab');
    expect(droppedIn(collector.text())).toBe(4);
  });
});
