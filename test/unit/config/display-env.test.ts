import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';

describe('rich result settings (README, Configuration)', () => {
  it('defaults: 8 images of 1 MiB, structuredContent auto', () => {
    expect(loadConfig({}).display).toEqual({
      imagesPerCall: 8,
      imageMaxBytes: 1024 * 1024,
      structured: 'auto',
    });
  });

  it('takes sizes with units, 0 images, and the three modes', () => {
    const config = loadConfig({
      MCP_BRIDGE_IMAGES_PER_CALL: '0',
      MCP_BRIDGE_IMAGE_MAX_BYTES: '512k',
      MCP_BRIDGE_STRUCTURED: 'Never',
    });
    expect(config.display).toEqual({
      imagesPerCall: 0,
      imageMaxBytes: 512 * 1024,
      structured: 'never',
    });
  });

  it.each([
    ['MCP_BRIDGE_IMAGES_PER_CALL', '65'],
    ['MCP_BRIDGE_IMAGES_PER_CALL', '-1'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', '3m'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', '1k'],
    ['MCP_BRIDGE_IMAGE_MAX_BYTES', 'big'],
    ['MCP_BRIDGE_STRUCTURED', 'sometimes'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
