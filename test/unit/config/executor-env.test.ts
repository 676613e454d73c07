import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/errors.js';

/** The installer's network settings (docs/packages.md, "What the installer can reach"). */

describe('MCP_BRIDGE_PACKAGES_NETWORK and MCP_BRIDGE_PACKAGES_FILE_HOSTS', () => {
  it('default to the relay and the index’s known file hosts', () => {
    const config = loadConfig({});
    expect(config.packages.network).toBe('relay');
    expect(config.packages.fileHosts).toBeUndefined();
  });

  it('read engine, and a list of hosts, host:port or URLs', () => {
    const config = loadConfig({
      MCP_BRIDGE_PACKAGES_NETWORK: ' Engine ',
      MCP_BRIDGE_PACKAGES_FILE_HOSTS: 'files.example, cdn.example:8443,http://plain.example:8080',
    });
    expect(config.packages.network).toBe('engine');
    expect(config.packages.fileHosts).toEqual([
      'files.example',
      'cdn.example:8443',
      'http://plain.example:8080',
    ]);
  });

  it.each([
    [{ MCP_BRIDGE_PACKAGES_NETWORK: 'host' }, /MCP_BRIDGE_PACKAGES_NETWORK/],
    [{ MCP_BRIDGE_PACKAGES_FILE_HOSTS: 'ftp://files.example' }, /MCP_BRIDGE_PACKAGES_FILE_HOSTS/],
    [{ MCP_BRIDGE_PACKAGES_FILE_HOSTS: 'user@files.example' }, /MCP_BRIDGE_PACKAGES_FILE_HOSTS/],
    [
      { MCP_BRIDGE_PACKAGES_FILE_HOSTS: 'https://files.example/path' },
      /MCP_BRIDGE_PACKAGES_FILE_HOSTS/,
    ],
    [{ MCP_BRIDGE_PACKAGES_FILE_HOSTS: 'not a host' }, /MCP_BRIDGE_PACKAGES_FILE_HOSTS/],
  ])('refuse %j', (env, why) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(why);
  });
});
