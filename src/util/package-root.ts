import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's folder, found from wherever this file runs (src/ or dist/src/). */
export function packageRoot(start = path.dirname(fileURLToPath(import.meta.url))): string {
  let folder = start;
  for (;;) {
    if (existsSync(path.join(folder, 'package.json')) && existsSync(path.join(folder, 'sandbox'))) {
      return folder;
    }
    const parent = path.dirname(folder);
    if (parent === folder) throw new Error(`package root not found above ${start}`);
    folder = parent;
  }
}

export function packageVersion(root = packageRoot()): string {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}
