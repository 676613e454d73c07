import { expect, it } from 'vitest';
import { randomHex } from '../../../src/util/random-hex.js';

it('hands out hex of the asked length, never the same bytes twice, across pool refills', () => {
  const seen = new Set<string>();
  for (let index = 0; index < 2000; index += 1) {
    const token = randomHex(16);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    seen.add(token);
  }
  expect(seen.size).toBe(2000); // 32 KB drawn: eight refills of the 4 KiB pool
  expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
  expect(() => randomHex(5000)).toThrow(RangeError);
});
