import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/** Small file helpers of the saved-tool store: nothing here throws but the write. */

/** Writes `text` to `target` through a temporary file and a rename: never half a file. */
export function writeFileAtomically(target: string, text: string): void {
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, target);
  } catch (error: unknown) {
    // E.g. a full disk: the earlier version stays as it was, and no half file is left.
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** `*.json` files (regular files only) of a folder, sorted; none if it is missing. */
export function listJson(folder: string): string[] {
  let files: string[];
  try {
    files = readdirSync(folder);
  } catch {
    return [];
  }
  return files.filter((file) => file.endsWith('.json') && isFile(path.join(folder, file))).sort();
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function removeFile(file: string): boolean {
  if (!isFile(file)) return false;
  rmSync(file, { force: true });
  return true;
}
