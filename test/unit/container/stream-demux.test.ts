import { describe, it, expect } from 'vitest';
import { StreamDemuxer, type DemuxedStream } from '../../../src/container/stream-demux.js';

/** One frame of the engine's multiplexed attach stream. */
function frame(streamType: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = streamType;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

interface Received {
  stream: DemuxedStream;
  text: string;
}

/** Feeds the chunks and returns what came out, adjacent pieces of one stream merged. */
function demux(chunks: Buffer[]): { merged: Received[]; calls: number } {
  const merged: Received[] = [];
  let calls = 0;
  const demuxer = new StreamDemuxer((stream, payload) => {
    calls += 1;
    const last = merged.at(-1);
    if (last && last.stream === stream) last.text += payload.toString('latin1');
    else merged.push({ stream, text: payload.toString('latin1') });
  });
  for (const chunk of chunks) demuxer.push(chunk);
  return { merged, calls };
}

function bytesOneByOne(data: Buffer): Buffer[] {
  return [...data].map((byte) => Buffer.from([byte]));
}

const mixed = Buffer.concat([
  frame(1, 'out-1\n'),
  frame(2, 'err-1\n'),
  frame(1, 'out-2\n'),
  frame(2, 'err-2'),
]);

const expectedMixed: Received[] = [
  { stream: 'stdout', text: 'out-1\n' },
  { stream: 'stderr', text: 'err-1\n' },
  { stream: 'stdout', text: 'out-2\n' },
  { stream: 'stderr', text: 'err-2' },
];

describe('StreamDemuxer', () => {
  it('routes type 1 to stdout and type 2 to stderr', () => {
    expect(demux([mixed]).merged).toEqual(expectedMixed);
  });

  it('reassembles frames fed one byte at a time', () => {
    expect(demux(bytesOneByOne(mixed)).merged).toEqual(expectedMixed);
  });

  it('reassembles frames cut in two at every possible byte boundary', () => {
    for (let cut = 0; cut <= mixed.length; cut += 1) {
      const { merged } = demux([mixed.subarray(0, cut), mixed.subarray(cut)]);
      expect(merged, `cut at byte ${cut}`).toEqual(expectedMixed);
    }
  });

  it('reads a payload length that uses every byte of the header', () => {
    // 0x01_02_03 bytes: the length's upper bytes must be read big-endian.
    const big = Buffer.alloc(0x010203, 0x61);
    const { merged } = demux([frame(1, big), frame(2, 'tail')]);
    expect(merged).toHaveLength(2);
    expect(merged[0]?.stream).toBe('stdout');
    expect(merged[0]?.text.length).toBe(0x010203);
    expect(merged[1]).toEqual({ stream: 'stderr', text: 'tail' });
  });

  it('passes binary payload bytes through unchanged', () => {
    const payload = Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0a, 0xc3]);
    const received: Buffer[] = [];
    const demuxer = new StreamDemuxer((_stream, chunk) => received.push(Buffer.from(chunk)));
    for (const chunk of bytesOneByOne(frame(1, payload))) demuxer.push(chunk);
    expect(Buffer.concat(received).equals(payload)).toBe(true);
  });

  it('handles zero-length payloads without losing the frames after them', () => {
    const data = Buffer.concat([frame(1, ''), frame(2, ''), frame(1, 'after'), frame(2, '')]);
    const whole = demux([data]);
    expect(whole.merged).toEqual([{ stream: 'stdout', text: 'after' }]);
    const bytewise = demux(bytesOneByOne(data));
    expect(bytewise.merged).toEqual([{ stream: 'stdout', text: 'after' }]);
  });

  it('drops stdin-typed (0) and unknown stream types without desynchronising', () => {
    const data = Buffer.concat([
      frame(0, 'stdin echo'),
      frame(1, 'kept-out'),
      frame(3, 'unknown type, header-like bytes: \x01\x00\x00\x00\x00\x00\x00\x05'),
      frame(2, 'kept-err'),
      frame(7, ''),
      frame(1, 'last'),
    ]);
    const expected: Received[] = [
      { stream: 'stdout', text: 'kept-out' },
      { stream: 'stderr', text: 'kept-err' },
      { stream: 'stdout', text: 'last' },
    ];
    expect(demux([data]).merged).toEqual(expected);
    expect(demux(bytesOneByOne(data)).merged).toEqual(expected);
  });

  it('copies a partial header, so the caller may reuse its buffer after push', () => {
    const data = frame(2, 'err');
    const received: Received[] = [];
    const demuxer = new StreamDemuxer((stream, payload) =>
      received.push({ stream, text: payload.toString('latin1') }),
    );
    const reused = Buffer.from(data.subarray(0, 5));
    demuxer.push(reused);
    reused.fill(0xff);
    demuxer.push(data.subarray(5));
    expect(received).toEqual([{ stream: 'stderr', text: 'err' }]);
  });

  it('does not call back for a header whose payload has not arrived yet', () => {
    const whole = frame(1, 'abc');
    const { calls } = demux([whole.subarray(0, 8)]);
    expect(calls).toBe(0);
  });
});
