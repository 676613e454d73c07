import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BoundedWriter, MAX_QUEUED_BYTES } from '../../../src/channel/bounded-writer.js';

/**
 * A real Writable whose reader is under the test's control: it holds what it is given
 * until `read()` lets it through, as a socket whose peer stopped reading would.
 */
function slowSink(highWaterMark = 16) {
  const received: string[] = [];
  const held: (() => void)[] = [];
  const sink = new Writable({
    highWaterMark,
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      held.push(() => {
        received.push(chunk);
        callback();
      });
    },
  });
  /** The peer reads everything held so far (and what that releases). */
  const read = async () => {
    while (held.length > 0) {
      held.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { sink, received, read };
}

describe('BoundedWriter', () => {
  it('writes straight through while the sink keeps up', async () => {
    const { sink, received, read } = slowSink(1024);
    const writer = new BoundedWriter(sink, { onOverflow: () => undefined });
    writer.write('a\n');
    await read();
    writer.write('b\n');
    await read();
    expect(received).toEqual(['a\n', 'b\n']);
    expect(writer.queuedBytes).toBe(0);
    expect(writer.backedUp).toBe(false);
  });

  it('holds lines while the sink is full and sends them together, in order, on drain', async () => {
    const { sink, received, read } = slowSink();
    const writer = new BoundedWriter(sink, { onOverflow: () => undefined });
    writer.write('first line over the mark\n'); // fills the sink: it asks us to wait
    writer.write('two\n');
    writer.write('three\n');
    expect(writer.backedUp).toBe(true);
    expect(writer.queuedBytes).toBe(10);
    expect(received).toEqual([]);
    await read();
    expect(received).toEqual(['first line over the mark\n', 'two\nthree\n']);
    expect(writer.queuedBytes).toBe(0);
    expect(writer.backedUp).toBe(false);
  });

  it('reports an overflow once, when waiting lines would pass the cap, then drops everything', () => {
    const { sink } = slowSink();
    const overflows: number[] = [];
    const writer = new BoundedWriter(sink, {
      maxQueuedBytes: 100,
      onOverflow: (bytes) => overflows.push(bytes),
    });
    writer.write('x'.repeat(20)); // to the sink
    for (let index = 0; index < 10; index += 1) expect(writer.write('y'.repeat(10))).toBe(true);
    expect(writer.queuedBytes).toBe(100);
    expect(writer.write('z')).toBe(false);
    expect(overflows).toEqual([101]);
    expect(writer.overflowed).toBe(true);
    expect(writer.queuedBytes).toBe(0); // what waited is released
    expect(writer.write('z')).toBe(false);
    expect(overflows).toHaveLength(1);
  });

  it('never refuses one frame for its size alone: a large frame goes when nothing waits', async () => {
    const { sink, received, read } = slowSink();
    const overflows: number[] = [];
    const writer = new BoundedWriter(sink, {
      maxQueuedBytes: 100,
      onOverflow: (bytes) => overflows.push(bytes),
    });
    const large = 'L'.repeat(1000);
    expect(writer.write(large)).toBe(true); // straight to the sink
    expect(writer.write(large)).toBe(true); // waits alone: accepted whatever its size
    expect(overflows).toEqual([]);
    await read();
    expect(received).toEqual([large, large]);
    expect(writer.write('small')).toBe(true);
    expect(overflows).toEqual([]);
  });

  it('counts bytes, not characters', () => {
    const { sink } = slowSink();
    const writer = new BoundedWriter(sink, { onOverflow: () => undefined });
    writer.write('fill the sink up\n');
    writer.write('é€😀');
    expect(writer.queuedBytes).toBe(2 + 3 + 4);
  });

  it('drops what waits when the sink closes, and writes nothing more', async () => {
    const { sink } = slowSink();
    const writer = new BoundedWriter(sink, { onOverflow: () => undefined });
    writer.write('fill the sink up\n');
    writer.write('waiting\n');
    sink.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.queuedBytes).toBe(0);
    expect(writer.backedUp).toBe(false);
    expect(writer.write('late\n')).toBe(false);
  });

  it('has a default cap of a few MiB', () => {
    expect(MAX_QUEUED_BYTES).toBe(16 * 1024 * 1024);
  });
});
