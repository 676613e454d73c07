import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../src/channel/frame-reader.js';
import type { SandboxFrame } from '../../../src/channel/frames.js';

/** The `progress` frame (runtime.progress) as the bridge reads it from a hostile sandbox. */

function read(line: string): { frames: SandboxFrame[]; invalid: string[] } {
  const frames: SandboxFrame[] = [];
  const invalid: string[] = [];
  const reader = new FrameReader({
    onFrame: (frame) => frames.push(frame),
    onInvalid: (reason) => invalid.push(reason),
  });
  reader.push(Buffer.from(`${line}\n`));
  return { frames, invalid };
}

describe('progress frames', () => {
  it('delivers a valid one, with or without total and message', () => {
    for (const frame of [
      { type: 'progress', id: 7, progress: 3, total: 10, message: 'file 3' },
      { type: 'progress', id: 7, progress: 0.5 },
      { type: 'progress', id: 7, progress: -2, total: 1e308 },
    ]) {
      expect(read(JSON.stringify(frame))).toEqual({ frames: [frame], invalid: [] });
    }
  });

  it.each([
    [
      'an infinite progress (1e999 parses as Infinity)',
      '{"type":"progress","id":7,"progress":1e999}',
    ],
    ['an infinite total', '{"type":"progress","id":7,"progress":1,"total":-1e999}'],
    ['a progress that is a string', '{"type":"progress","id":7,"progress":"3"}'],
    ['no progress', '{"type":"progress","id":7}'],
    ['a message that is not text', '{"type":"progress","id":7,"progress":1,"message":5}'],
    [
      'a message over 4096 characters',
      `{"type":"progress","id":7,"progress":1,"message":"${'m'.repeat(4097)}"}`,
    ],
    ['an id that is not a positive integer', '{"type":"progress","id":0,"progress":1}'],
  ])('drops one with %s', (_name, line) => {
    const { frames, invalid } = read(line);
    expect(frames).toEqual([]);
    expect(invalid).toHaveLength(1);
  });

  it('drops NaN, which is not JSON', () => {
    expect(read('{"type":"progress","id":7,"progress":NaN}').invalid).toEqual(['not JSON']);
  });
});
