import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { locateEngine } from '../../src/container/engine-locator.js';
import { createLogger } from '../../src/logger.js';

// locateEngine starting `podman system service` itself: a fake podman (a node script)
// that serves the engine API on the socket it is given.
const FAKE_PODMAN = path.resolve(import.meta.dirname, '../fixtures/fake-podman.mjs');
const logger = createLogger('silent');
const folders: string[] = [];

function binFolder(withPodman: boolean): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'fake-bin-'));
  folders.push(folder);
  if (withPodman) symlinkSync(FAKE_PODMAN, path.join(folder, 'podman'));
  return folder;
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('locateEngine and podman system service', () => {
  it('starts `podman system service` when podman exists but no socket answers, and stops it', async () => {
    const nowhere = {
      dockerHost: 'unix:///nonexistent/podman.sock',
      source: 'test',
      expected: undefined,
    };
    const engine = await locateEngine({ runtime: 'auto', engineAddress: undefined }, logger, {
      candidates: [nowhere],
      searchPath: binFolder(true),
    });
    try {
      expect(engine.kind).toBe('podman');
      expect(engine.version).toBe('9.9.9');
      expect(engine.ownedService).toBeDefined();
      expect(existsSync(engine.dockerHost.slice('unix://'.length))).toBe(true);
    } finally {
      await engine.ownedService?.stop();
    }
    expect(existsSync(path.dirname(engine.dockerHost.slice('unix://'.length)))).toBe(false);
  });
});
