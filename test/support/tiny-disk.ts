import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A small tmpfs of the test's own (the tests run as root, as CI does), to fill up: a full
 * disk under the bridge's state dir without touching any real one.
 */
export interface TinyDisk {
  dir: string;
  /** Writes a filler file until the file system refuses (ENOSPC). */
  fill(): void;
  /** Removes the filler: the space is back. */
  free(): void;
  /** Unmounts and removes the mount point. */
  remove(): void;
}

const FILLER = '.filler';

export function mountTinyDisk(sizeKiB = 1024): TinyDisk {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-faults-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not mount a tmpfs (the fault tests need root): ${String(error)}`);
  }
  const filler = path.join(dir, FILLER);
  return {
    dir,
    fill: () => {
      try {
        writeFileSync(filler, Buffer.alloc((sizeKiB + 1024) * 1024));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        return;
      }
      throw new Error(`${dir} took more than its size without ENOSPC`);
    },
    free: () => rmSync(filler, { force: true }),
    remove: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
