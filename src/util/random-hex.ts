import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the system's CSPRNG at a time; calls take their share in turn. */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `bytes` random bytes as hex, from the same CSPRNG as crypto.randomBytes, drawn 4 KiB at
 * a time: every call (a fresh secret per cell, an id per history entry) would otherwise
 * pay a call into OpenSSL and a Buffer of its own. Each byte is handed out once.
 */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} bytes at a time`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
