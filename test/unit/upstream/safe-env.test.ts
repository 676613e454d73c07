import { describe, expect, it } from 'vitest';
import { inheritedEnvironment, serverEnvironment } from '../../../src/upstream/safe-env.js';

const HOST = {
  HOME: '/home/ada',
  PATH: '/usr/bin:/bin',
  USER: 'ada',
  LANG: 'en_GB.UTF-8',
  LC_ALL: 'en_GB.UTF-8',
  TMPDIR: '/tmp/ada',
  XDG_RUNTIME_DIR: '/run/user/1000',
  HTTPS_PROXY: 'http://proxy:3128',
  no_proxy: 'localhost',
  NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem',
  npm_config_cache: '/home/ada/.npm',
  MCP_BRIDGE_RUNTIME: 'podman',
  MCP_BRIDGE_STATE_DIR: '/home/ada/MCPs',
  MCP_SERVERS_CONFIG: '/home/ada/servers.json',
  GITHUB_TOKEN: 'ghp_secret',
  AWS_SECRET_ACCESS_KEY: 'secret',
  OPENAI_API_KEY: 'sk-secret',
  SHELL: '() { :; }; echo pwned',
};

describe('inheritedEnvironment', () => {
  it('keeps the safe set and drops the bridge settings and secrets', () => {
    expect(inheritedEnvironment(HOST, 'linux')).toEqual({
      HOME: '/home/ada',
      PATH: '/usr/bin:/bin',
      USER: 'ada',
      LANG: 'en_GB.UTF-8',
      LC_ALL: 'en_GB.UTF-8',
      TMPDIR: '/tmp/ada',
      XDG_RUNTIME_DIR: '/run/user/1000',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
      NODE_EXTRA_CA_CERTS: '/etc/corp-ca.pem',
      npm_config_cache: '/home/ada/.npm',
    });
  });

  it('uses the Windows set on Windows, whatever the case of the names', () => {
    const env = inheritedEnvironment(
      { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', APPDATA: 'C:\\x', HOME: '/h', TOKEN: 't' },
      'win32',
    );
    expect(env).toEqual({ Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', APPDATA: 'C:\\x' });
  });
});

describe('serverEnvironment', () => {
  it("adds the config's env, which wins over the inherited value", () => {
    const env = serverEnvironment({ PATH: '/opt/bin', GITHUB_TOKEN: 'from-config' }, HOST, 'linux');
    expect(env.PATH).toBe('/opt/bin');
    expect(env.GITHUB_TOKEN).toBe('from-config');
    expect(env.HOME).toBe('/home/ada');
    expect(Object.keys(env).filter((key) => key.startsWith('MCP_'))).toEqual([]);
  });
});
