import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';

describe('rich result settings (README, Configuration)', () => {
  it('defaults: 8 images of 1 MiB, structuredContent auto', () => {
    expect(loadConfig({}).display).toEqual({
      imagesPerCall: 8,
      imageMaxBytes: 1024 * 1024,
      structured: 'auto',
      artifactsQuotaBytes: 256 * 1024 * 1024,
      artifactsDir: undefined,
    });
  });

  it('takes sizes with units, 0 images, and the three modes', () => {
    const config = loadConfig({
      MCP_BRIDGE_IMAGES_PER_CALL: '0',
      MCP_BRIDGE_IMAGE_MAX_BYTES: '512k',
      MCP_BRIDGE_STRUCTURED: 'Never',
    });
    expect(config.display).toMatchObject({
      imagesPerCall: 0,
      imageMaxBytes: 512 * 1024,
      structured: 'never',
    });
    const files = loadConfig({ MCP_BRIDGE_ARTIFACTS_MB: '64', MCP_BRIDGE_ARTIFACTS_DIR: '~/out' });
    expect(files.display.artifactsQuotaBytes).toBe(64 * 1024 * 1024);
    expect(files.display.artifactsDir).toBe(path.join(os.homedir(), 'out'));
  });

  it.each([
    ['MCP_BRIDGE_IMAGES_PER_CALL', '65'],
    ['MCP_BRIDGE_IMAGES_PER_CALL', '-1'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', '3m'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', '1k'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', 'big'],
    ['MCP_BRIDGE_STRUCTURED', 'sometimes'],
    ['MCP_BRIDGE_ARTIFACTS_MB', '8'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
