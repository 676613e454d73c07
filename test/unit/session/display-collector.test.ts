import { describe, expect, it } from 'vitest';
import type { ImageFrame } from '../../../src/channel/frames.js';
import {
  DisplayCollector,
  NO_IMAGES,
  base64Bytes,
  displayLimits,
} from '../../../src/session/display-collector.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);

function frame(bytes: Buffer, mimeType = 'image/png'): ImageFrame {
  return { type: 'image', id: 1, mimeType, data: bytes.toString('base64') };
}

/** A frame whose data is taken as it is. */
function raw(data: string): ImageFrame {
  return { type: 'image', id: 1, mimeType: 'image/png', data };
}

function png(size: number): Buffer {
  return Buffer.concat([PNG, Buffer.alloc(size - PNG.length)]);
}

const limits = { maxImages: 2, maxImageBytes: 1000, maxTotalBytes: 1500 };

describe('DisplayCollector', () => {
  it('keeps PNG and JPEG images within the count, with their decoded size', () => {
    const collector = new DisplayCollector(limits);
    collector.addImage(frame(png(100)));
    collector.addImage(frame(Buffer.concat([JPEG, Buffer.alloc(10)]), 'image/jpeg'));
    const { images, notices } = collector.result();
    expect(images.map(({ mimeType, bytes }) => [mimeType, bytes])).toEqual([
      ['image/png', 100],
      ['image/jpeg', 14],
    ]);
    expect(notices).toEqual([]);
  });

  it('past the count only counts, and says so naming the variable', () => {
    const collector = new DisplayCollector(limits);
    for (let i = 0; i < 5000; i += 1) collector.addImage(frame(png(10)));
    const { images, notices } = collector.result();
    expect(images).toHaveLength(2);
    expect(notices).toEqual([
      '4998 more images dropped: at most 2 per call (MCP_BRIDGE_IMAGES_PER_CALL)',
    ]);
  });

  it('refuses an image over the per-image cap, and one past the total, by size', () => {
    const collector = new DisplayCollector({ ...limits, maxImages: 8 });
    collector.addImage(frame(png(1001)));
    collector.addImage(frame(png(1000)));
    collector.addImage(frame(png(600)));
    collector.addImage(frame(png(500)));
    const { images, notices } = collector.result();
    expect(images.map((image) => image.bytes)).toEqual([1000, 500]);
    expect(notices).toEqual([
      "2 images dropped: over 1,000 bytes (MCP_BRIDGE_IMAGE_MAX_BYTES) or past the call's 1,500 bytes of images",
    ]);
  });

  it('refuses a huge text by its length, without scanning it', () => {
    const collector = new DisplayCollector(limits);
    // Not base64 at all: only its length is looked at.
    collector.addImage({ type: 'image', id: 1, mimeType: 'image/png', data: '!'.repeat(4 << 20) });
    expect(collector.result().notices[0]).toMatch(/^1 image dropped: over 1,000 bytes/);
  });

  it.each([
    ['another kind', frame(png(20), 'image/svg+xml')],
    ['html as png', frame(Buffer.from('<html><script>alert(1)</script>'))],
    ['jpeg bytes as png', frame(Buffer.concat([JPEG, Buffer.alloc(20)]))],
    ['png bytes as jpeg', frame(png(20), 'image/jpeg')],
    ['not base64', raw('iVBO!!!!')],
    ['padding inside', raw('iVBO=RwA')],
    ['cut base64', raw('iVBORw0KGgo')],
    ['empty', raw('')],
  ])('refuses %s', (_name, bad) => {
    const collector = new DisplayCollector(limits);
    collector.addImage(bad);
    expect(collector.result()).toEqual({
      images: [],
      notices: ['1 image dropped: not valid base64 PNG or JPEG data'],
    });
  });

  it('keeps at most 8 notices of at most 500 characters', () => {
    const collector = new DisplayCollector(limits);
    for (let i = 0; i < 1000; i += 1) collector.addNotice('x'.repeat(10_000));
    const { notices } = collector.result();
    expect(notices).toHaveLength(9);
    expect(notices[0]).toHaveLength(500);
    expect(notices[8]).toBe('992 more notices dropped');
  });

  it('keeps nothing without limits (the bridge’s own cells), and says nothing', () => {
    const collector = new DisplayCollector(NO_IMAGES);
    collector.addImage(frame(png(10)));
    expect(collector.result()).toEqual({ images: [], notices: [] });
  });
});

describe('base64Bytes and displayLimits', () => {
  it('gives the decoded size', () => {
    for (const size of [1, 2, 3, 4, 100]) {
      expect(base64Bytes(Buffer.alloc(size).toString('base64'))).toBe(size);
    }
  });

  it('takes the configured count and size, and a total that leaves room for text', () => {
    const config = {
      imagesPerCall: 3,
      imageMaxBytes: 2048,
      structured: 'auto' as const,
      artifactsQuotaBytes: 1 << 20,
      artifactsDir: undefined,
    };
    expect(displayLimits(config)).toEqual({
      maxImages: 3,
      maxImageBytes: 2048,
      maxTotalBytes: 4.5 * 1024 * 1024,
      maxFiles: 32,
      maxFileBytes: 2 * 1024 * 1024,
    });
  });
});
