import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ToolSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';

/** Bumped when the file's shape changes; other versions read as a miss. */
const CACHE_VERSION = 1;

/** Security: the hash becomes part of a file name, so it may not carry a path. */
const HASH = /^[A-Za-z0-9_-]{1,128}$/;

/** `<stateDir>/cache/tools-<hash>.json`: one server's last `tools/list`, keyed by its config. */
export function cachedToolsPath(stateDir: string, hash: string): string {
  if (!HASH.test(hash)) throw new Error(`Invalid tool cache key '${hash.slice(0, 40)}'`);
  return path.join(stateDir, 'cache', `tools-${hash}.json`);
}

/**
 * The tool list cached for a server config, so search covers servers not started yet.
 * Missing, unreadable, corrupt or foreign files read as `undefined` (a cache miss).
 */
export function readCachedTools(stateDir: string, hash: string): Tool[] | undefined {
  let text: string;
  try {
    text = readFileSync(cachedToolsPath(stateDir, hash), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { version, tools } = parsed as { version?: unknown; tools?: unknown };
    if (version !== CACHE_VERSION || !Array.isArray(tools)) return undefined;
    const valid = tools.map((tool) => ToolSchema.safeParse(tool));
    return valid.every((result) => result.success) ? valid.map((result) => result.data) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces the cached tool list atomically (temp file + rename: readers see the old or the
 * new list, never half of one). Security: the folder is 0700 and the file 0600, as tool
 * descriptions may reveal what the user has configured.
 */
export function writeCachedTools(stateDir: string, hash: string, tools: readonly Tool[]): void {
  const target = cachedToolsPath(stateDir, hash);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const body = { version: CACHE_VERSION, savedAt: new Date().toISOString(), tools };
  try {
    writeFileSync(temp, `${JSON.stringify(body)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, target);
  } catch (error: unknown) {
    rmSync(temp, { force: true });
    throw error;
  }
}
