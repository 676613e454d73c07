import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** Bytes of the decoded (still filtered) scanlines: height × (1 + width × bytes per pixel). */
  rawBytes: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Channels per pixel by PNG colour type (8-bit depth). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a PNG far enough to prove it is one: signature, IHDR, and the IDAT stream
 * inflated to exactly the scanlines its size calls for. Throws on anything else.
 */
export function decodePng(data: Buffer): DecodedPng {
  if (!data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG signature');
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number } | undefined;
  const idat: Buffer[] = [];
  while (offset + 8 <= data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8] ?? 0,
        colour: body[9] ?? 0,
      };
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!header) throw new Error('no IHDR chunk');
  const channels = CHANNELS[header.colour];
  if (header.depth !== 8 || channels === undefined)
    throw new Error(`unexpected PNG depth ${header.depth} colour ${header.colour}`);
  const raw = inflateSync(Buffer.concat(idat));
  const expected = header.height * (1 + header.width * channels);
  if (raw.length !== expected)
    throw new Error(`IDAT inflates to ${raw.length} bytes, expected ${expected}`);
  return { width: header.width, height: header.height, rawBytes: raw.length };
}
