import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cachedToolsPath,
  readCachedTools,
  writeCachedTools,
} from '../../../src/upstream/catalog-cache.js';

const HASH = 'a'.repeat(64);
const tools: Tool[] = [
  {
    name: 'read_file',
    description: 'Read a file',
    inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
  { name: 'ping', inputSchema: { type: 'object' } },
];

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'catalog-cache-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

describe('catalog cache', () => {
  it('round-trips a tool list under <stateDir>/cache/tools-<hash>.json', () => {
    writeCachedTools(stateDir, HASH, tools);
    expect(cachedToolsPath(stateDir, HASH)).toBe(
      path.join(stateDir, 'cache', `tools-${HASH}.json`),
    );
    expect(readdirSync(path.join(stateDir, 'cache'))).toEqual([`tools-${HASH}.json`]);
    expect(readCachedTools(stateDir, HASH)).toEqual(tools);
  });

  it('keeps one file per hash and replaces it on a later write', () => {
    writeCachedTools(stateDir, HASH, tools);
    writeCachedTools(stateDir, 'b'.repeat(64), tools.slice(1));
    writeCachedTools(stateDir, HASH, tools.slice(0, 1));
    expect(readCachedTools(stateDir, HASH)).toEqual(tools.slice(0, 1));
    expect(readCachedTools(stateDir, 'b'.repeat(64))).toEqual(tools.slice(1));
    expect(readdirSync(path.join(stateDir, 'cache')).sort()).toEqual([
      `tools-${HASH}.json`,
      `tools-${'b'.repeat(64)}.json`,
    ]);
  });

  it('reads a missing cache as undefined', () => {
    expect(readCachedTools(stateDir, HASH)).toBeUndefined();
    expect(readCachedTools(path.join(stateDir, 'nowhere'), HASH)).toBeUndefined();
  });

  it('reads a corrupt or foreign file as undefined', () => {
    writeCachedTools(stateDir, HASH, tools);
    const file = cachedToolsPath(stateDir, HASH);
    const good = readFileSync(file, 'utf8');
    for (const bad of [
      good.slice(0, good.length / 2),
      '',
      'null',
      '[]',
      '{"version":1}',
      '{"version":2,"tools":[]}',
      '{"version":1,"tools":[{"description":"no name"}]}',
      '{"version":1,"tools":[{"name":"x","inputSchema":"not an object"}]}',
    ]) {
      writeFileSync(file, bad);
      expect(readCachedTools(stateDir, HASH), bad).toBeUndefined();
    }
  });

  it('writes the file 0600 in a 0700 folder', () => {
    writeCachedTools(stateDir, HASH, tools);
    expect(statSync(cachedToolsPath(stateDir, HASH)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(stateDir, 'cache')).mode & 0o777).toBe(0o700);
  });

  it('writes atomically: a temp file renamed over the old one, none left behind', () => {
    writeCachedTools(stateDir, HASH, tools);
    const before = statSync(cachedToolsPath(stateDir, HASH)).ino;
    writeCachedTools(stateDir, HASH, tools.slice(1));
    // A rename gives the path a new inode; rewriting in place would keep the old one.
    expect(statSync(cachedToolsPath(stateDir, HASH)).ino).not.toBe(before);
    expect(readdirSync(path.join(stateDir, 'cache'))).toEqual([`tools-${HASH}.json`]);
  });

  it('leaves the old list and no temp file when the write fails', () => {
    writeCachedTools(stateDir, HASH, tools);
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic.self = cyclic;
    const broken = [{ name: 'x', inputSchema: cyclic }] as unknown as Tool[];
    expect(() => writeCachedTools(stateDir, HASH, broken)).toThrow();
    expect(readCachedTools(stateDir, HASH)).toEqual(tools);
    expect(readdirSync(path.join(stateDir, 'cache'))).toEqual([`tools-${HASH}.json`]);
  });

  it('removes its temp file when the rename fails', () => {
    mkdirSync(cachedToolsPath(stateDir, HASH), { recursive: true });
    expect(() => writeCachedTools(stateDir, HASH, tools)).toThrow();
    expect(readdirSync(path.join(stateDir, 'cache'))).toEqual([`tools-${HASH}.json`]);
    expect(readCachedTools(stateDir, HASH)).toBeUndefined();
  });

  it('refuses a hash that could name another path', () => {
    for (const hash of ['../x', 'a/b', '', '.', 'a b']) {
      expect(() => writeCachedTools(stateDir, hash, tools)).toThrow(/Invalid tool cache key/);
      expect(readCachedTools(stateDir, hash)).toBeUndefined();
    }
  });
});
