import { describe, expect, it } from 'vitest';
import { formatByteSize, parseByteSize } from '../../../src/config/byte-size.js';

describe('parseByteSize', () => {
  it.each([
    ['512m', 536870912],
    ['512M', 536870912],
    ['512MiB', 536870912],
    ['1g', 1024 ** 3],
    ['0.5g', 536870912],
    ['64k', 65536],
    ['1048576', 1048576],
    ['100b', 100],
    [' 2 gb ', 2 * 1024 ** 3],
  ])('%s → %d bytes', (value, bytes) => {
    expect(parseByteSize(value)).toBe(bytes);
  });

  it.each(['lots', '', 'm', '-1m', '1.2.3m', '5t', '1e3', '10 m b'])('%s is malformed', (value) => {
    expect(parseByteSize(value)).toBeUndefined();
  });
});

describe('formatByteSize', () => {
  it.each([
    [536870912, '512 MiB'],
    [1024 ** 3, '1 GiB'],
    [1.5 * 1024 ** 3, '1536 MiB'],
    [2048, '2 KiB'],
    [100, '100 B'],
  ])('%d → %s', (bytes, text) => {
    expect(formatByteSize(bytes)).toBe(text);
  });
});
