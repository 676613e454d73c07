import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/errors.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig defaults (README, Configuration)', () => {
  const config = loadConfig({});

  it('matches the documented defaults', () => {
    expect(config.runtime).toBe('auto');
    expect(config.image).toBe('python:3.14-slim');
    expect(config.defaultTimeoutSeconds).toBe(30);
    expect(config.maxTimeoutSeconds).toBe(120);
    expect(config.memoryBytes).toBe(536870912);
    expect(config.pidsLimit).toBe(128);
    expect(config.cpus).toBeUndefined();
    expect(config.containerUser).toBe('65534:65534');
    expect(config.idleTimeoutSeconds).toBe(300);
    expect(config.outputMode).toBe('compact');
    expect(config.logLevel).toBe('info');
    expect(config.allowSelfServer).toBe(false);
    expect(config.serversConfigPath).toBeUndefined();
    expect(config.engineAddress).toBeUndefined();
    expect(config.maxSessions).toBe(4);
  });

  it('reads MCP_BRIDGE_MAX_SESSIONS as a whole number from 1 to 64', () => {
    expect(loadConfig({ MCP_BRIDGE_MAX_SESSIONS: '1' }).maxSessions).toBe(1);
    expect(loadConfig({ MCP_BRIDGE_MAX_SESSIONS: '64' }).maxSessions).toBe(64);
    for (const bad of ['0', '65', '2.5', 'many', '-1']) {
      expect(configError({ MCP_BRIDGE_MAX_SESSIONS: bad }).message).toMatch(
        /MCP_BRIDGE_MAX_SESSIONS/,
      );
    }
  });

  it('expands the default state dir ~/MCPs to the home directory', () => {
    expect(config.stateDir).toBe(path.join(os.homedir(), 'MCPs'));
  });

  it('ignores unrelated variables', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/home/x', LANG: 'C' }).image).toBe(
      'python:3.14-slim',
    );
  });
});

describe('loadConfig values', () => {
  it('reads every documented variable', () => {
    const config = loadConfig({
      MCP_BRIDGE_RUNTIME: 'Podman',
      MCP_BRIDGE_IMAGE: 'python:3.12-slim',
      MCP_BRIDGE_TIMEOUT: '10',
      MCP_BRIDGE_MAX_TIMEOUT: '60',
      MCP_BRIDGE_MEMORY: '1g',
      MCP_BRIDGE_PIDS: '64',
      MCP_BRIDGE_CPUS: '0.5',
      MCP_BRIDGE_CONTAINER_USER: '1000:1000',
      MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: '0',
      MCP_BRIDGE_STATE_DIR: '~/state',
      MCP_BRIDGE_OUTPUT_MODE: 'TOON',
      MCP_BRIDGE_ALLOW_SELF_SERVER: '1',
      MCP_SERVERS_CONFIG: '/etc/mcp/servers.json',
      DOCKER_HOST: 'unix:///run/podman/podman.sock',
    });
    expect(config).toMatchObject({
      runtime: 'podman',
      image: 'python:3.12-slim',
      defaultTimeoutSeconds: 10,
      maxTimeoutSeconds: 60,
      memoryBytes: 1024 ** 3,
      pidsLimit: 64,
      cpus: 0.5,
      containerUser: '1000:1000',
      idleTimeoutSeconds: 0,
      stateDir: path.join(os.homedir(), 'state'),
      outputMode: 'toon',
      allowSelfServer: true,
      serversConfigPath: '/etc/mcp/servers.json',
      engineAddress: { variable: 'DOCKER_HOST', address: 'unix:///run/podman/podman.sock' },
    });
  });

  it('treats empty and blank strings as unset', () => {
    const config = loadConfig({
      MCP_BRIDGE_RUNTIME: '',
      MCP_BRIDGE_IMAGE: '',
      MCP_BRIDGE_TIMEOUT: '',
      MCP_BRIDGE_MAX_TIMEOUT: '  ',
      MCP_BRIDGE_MEMORY: '',
      MCP_BRIDGE_PIDS: '',
      MCP_BRIDGE_CPUS: '',
      MCP_BRIDGE_CONTAINER_USER: '',
      MCP_BRIDGE_STATE_DIR: '',
      MCP_BRIDGE_OUTPUT_MODE: '',
      MCP_BRIDGE_LOG_LEVEL: '',
      MCP_SERVERS_CONFIG: '',
      DOCKER_HOST: '',
      CONTAINER_HOST: '  ',
    });
    expect(config).toEqual(loadConfig({}));
  });

  it('takes the engine address from DOCKER_HOST, else CONTAINER_HOST', () => {
    expect(
      loadConfig({ CONTAINER_HOST: ' unix:///run/user/1000/podman/podman.sock ' }).engineAddress,
    ).toEqual({
      variable: 'CONTAINER_HOST',
      address: 'unix:///run/user/1000/podman/podman.sock',
    });
    expect(
      loadConfig({ DOCKER_HOST: 'tcp://10.0.0.5:2375', CONTAINER_HOST: 'unix:///b.sock' })
        .engineAddress,
    ).toEqual({ variable: 'DOCKER_HOST', address: 'tcp://10.0.0.5:2375' });
    expect(loadConfig({ DOCKER_HOST: '', CONTAINER_HOST: 'unix:///b.sock' }).engineAddress).toEqual(
      {
        variable: 'CONTAINER_HOST',
        address: 'unix:///b.sock',
      },
    );
  });

  it.each([
    ['INFO', 'info'],
    ['info', 'info'],
    ['WARNING', 'warn'],
    ['Warning', 'warn'],
    ['DEBUG', 'debug'],
    ['error', 'error'],
  ])('MCP_BRIDGE_LOG_LEVEL=%s → %s', (value, level) => {
    expect(loadConfig({ MCP_BRIDGE_LOG_LEVEL: value }).logLevel).toBe(level);
  });

  it('accepts the Python-style false values of MCP_BRIDGE_ALLOW_SELF_SERVER', () => {
    for (const value of ['0', 'false', 'no', 'off']) {
      expect(loadConfig({ MCP_BRIDGE_ALLOW_SELF_SERVER: value }).allowSelfServer).toBe(false);
    }
    for (const value of ['1', 'true', 'YES', 'on']) {
      expect(loadConfig({ MCP_BRIDGE_ALLOW_SELF_SERVER: value }).allowSelfServer).toBe(true);
    }
  });

  it('allows TIMEOUT equal to MAX_TIMEOUT', () => {
    const config = loadConfig({ MCP_BRIDGE_TIMEOUT: '60', MCP_BRIDGE_MAX_TIMEOUT: '60' });
    expect(config.defaultTimeoutSeconds).toBe(60);
  });
});

describe('loadConfig invalid values', () => {
  it.each([
    ['MCP_BRIDGE_MEMORY', 'lots'],
    ['MCP_BRIDGE_MEMORY', '1m'],
    ['MCP_BRIDGE_MEMORY', '512x'],
    ['MCP_BRIDGE_TIMEOUT', 'abc'],
    ['MCP_BRIDGE_TIMEOUT', '0'],
    ['MCP_BRIDGE_TIMEOUT', '1.5'],
    ['MCP_BRIDGE_TIMEOUT', '-5'],
    ['MCP_BRIDGE_MAX_TIMEOUT', '2m'],
    ['MCP_BRIDGE_RUNTIME', 'lxc'],
    ['MCP_BRIDGE_CONTAINER_USER', '0:0'],
    ['MCP_BRIDGE_CONTAINER_USER', '00:0'],
    ['MCP_BRIDGE_CONTAINER_USER', 'root'],
    ['MCP_BRIDGE_CONTAINER_USER', 'nobody:nogroup'],
    ['MCP_BRIDGE_CONTAINER_USER', '1000'],
    ['MCP_BRIDGE_OUTPUT_MODE', 'xml'],
    ['MCP_BRIDGE_LOG_LEVEL', 'verbose'],
    ['MCP_BRIDGE_PIDS', 'many'],
    ['MCP_BRIDGE_PIDS', '1'],
    ['MCP_BRIDGE_CPUS', 'two'],
    ['MCP_BRIDGE_CPUS', '0'],
    ['MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT', 'never'],
    ['MCP_BRIDGE_ALLOW_SELF_SERVER', 'maybe'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(name);
  });

  it.each([
    ['65534:0', "must not be in root's group (gid 0)"],
    ['1000:00', "must not be in root's group (gid 0)"],
    ['0:65534', 'must not be root (uid 0)'],
    ['1000:root', 'must be numeric uid:gid'],
    ['nobody:0', 'must be numeric uid:gid'],
    ['65534:4294967295', 'ids must be at most 2147483647'],
    ['2147483648:65534', 'ids must be at most 2147483647'],
  ])('MCP_BRIDGE_CONTAINER_USER=%s: %s', (value, reason) => {
    expect(configError({ MCP_BRIDGE_CONTAINER_USER: value }).message).toContain(
      `MCP_BRIDGE_CONTAINER_USER: ${reason}`,
    );
  });

  it('accepts the largest id runc takes', () => {
    const user = '2147483647:2147483647';
    expect(loadConfig({ MCP_BRIDGE_CONTAINER_USER: user }).containerUser).toBe(user);
  });

  it('refuses a default timeout above the maximum, naming both', () => {
    const error = configError({ MCP_BRIDGE_TIMEOUT: '200' });
    expect(error.message).toContain('MCP_BRIDGE_TIMEOUT');
    expect(error.message).toContain('MCP_BRIDGE_MAX_TIMEOUT');
    const explicit = configError({ MCP_BRIDGE_TIMEOUT: '61', MCP_BRIDGE_MAX_TIMEOUT: '60' });
    expect(explicit.message).toContain('MCP_BRIDGE_MAX_TIMEOUT');
  });

  it('names every invalid variable in one error', () => {
    const error = configError({
      MCP_BRIDGE_MEMORY: 'lots',
      MCP_BRIDGE_TIMEOUT: 'abc',
      MCP_BRIDGE_RUNTIME: 'lxc',
      MCP_BRIDGE_CONTAINER_USER: '0:0',
      MCP_BRIDGE_OUTPUT_MODE: 'xml',
      MCP_BRIDGE_IMAGE: 'python:3.14-slim',
    });
    for (const name of [
      'MCP_BRIDGE_MEMORY',
      'MCP_BRIDGE_TIMEOUT',
      'MCP_BRIDGE_RUNTIME',
      'MCP_BRIDGE_CONTAINER_USER',
      'MCP_BRIDGE_OUTPUT_MODE',
    ]) {
      expect(error.message).toContain(name);
    }
    expect(error.message).not.toContain('MCP_BRIDGE_IMAGE');
  });
});
