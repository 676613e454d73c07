import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { expectedFacts } from '../../../src/container/expected-facts.js';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
  parseUser,
  type HardeningSettings,
} from '../../../src/container/hardening.js';
import { buildSeccompProfile, seccompProfileJson } from '../../../src/container/seccomp-profile.js';

const MiB = 1024 * 1024;

function settings(overrides: Partial<HardeningSettings> = {}): HardeningSettings {
  return {
    engine: 'docker',
    image: 'python:3.14-slim',
    user: '65534:65534',
    memoryBytes: 512 * MiB,
    pidsLimit: 128,
    ...hardeningDefaults(),
    labels: { 'example.role': 'sandbox' },
    command: ['python3', '-u', '-c', 'print(1)', 'nonce'],
    ...overrides,
  };
}

const HOST_MOUNTS: HardeningSettings['mounts'] = [
  {
    name: 'the package store',
    mount: { Type: 'volume', Source: 'store', Target: '/packages', ReadOnly: false },
  },
  {
    name: 'the host folder /workspace/data',
    mount: { Type: 'bind', Source: '/srv/data', Target: '/workspace/data', ReadOnly: true },
    hostFolder: true,
    writable: false,
  },
  {
    name: 'the host folder /workspace/exports',
    mount: { Type: 'bind', Source: '/srv/out', Target: '/workspace/exports', ReadOnly: false },
    hostFolder: true,
    writable: true,
  },
  // Security: only a host folder can be writable; a mount that only says so is not.
  {
    name: 'not a host folder',
    mount: { Type: 'bind', Source: '/srv/rogue', Target: '/workspace/rogue', ReadOnly: false },
    writable: true,
  },
];

describe('buildContainerCreateOptions', () => {
  it('applies every hardening setting', () => {
    const options = buildContainerCreateOptions(settings());
    const host = options.HostConfig ?? {};
    expect(host.NetworkMode).toBe('none');
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toBeUndefined();
    expect(host.Privileged).toBeUndefined();
    expect(host.Memory).toBe(512 * MiB);
    expect(host.MemorySwap).toBe(512 * MiB);
    expect(host.PidsLimit).toBe(128);
    expect(host.NanoCpus).toBeUndefined();
    expect(host.ShmSize).toBe(8 * MiB);
    expect(host.Ulimits).toEqual([
      { Name: 'nofile', Soft: 4096, Hard: 4096 },
      { Name: 'nproc', Soft: 16384, Hard: 16384 },
      { Name: 'core', Soft: 0, Hard: 0 },
      { Name: 'msgqueue', Soft: 0, Hard: 0 },
    ]);
    expect(host.LogConfig).toEqual({ Type: 'none', Config: {} });
    expect(host.Init).toBe(true);
    expect(host.IpcMode).toBe('private');
    expect(host.Binds).toBeUndefined();
    expect(host.Mounts).toBeUndefined();
    expect(options).toMatchObject({
      Image: 'python:3.14-slim',
      User: '65534:65534',
      WorkingDir: '/workspace',
      Entrypoint: [''],
      Cmd: ['python3', '-u', '-c', 'print(1)', 'nonce'],
      Labels: { 'example.role': 'sandbox' },
      OpenStdin: true,
      StdinOnce: false,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    expect(options.Env).toEqual([
      'PYTHONUNBUFFERED=1',
      'PYTHONIOENCODING=utf-8',
      'PYTHONDONTWRITEBYTECODE=1',
      'HOME=/workspace',
      'MPLCONFIGDIR=/tmp/matplotlib',
    ]);
  });

  it('mounts sized noexec,nosuid,nodev tmpfs on /tmp, /workspace, /run and a read-only /var/tmp', () => {
    const tmpfs = buildContainerCreateOptions(settings()).HostConfig?.Tmpfs ?? {};
    expect(Object.keys(tmpfs).sort()).toEqual(['/run', '/tmp', '/var/tmp', '/workspace']);
    for (const options of Object.values(tmpfs)) {
      expect(options.split(',')).toEqual(expect.arrayContaining(['noexec', 'nosuid', 'nodev']));
      expect(options).toMatch(/(^|,)size=\d+(,|$)/);
    }
    expect(tmpfs['/tmp']).toContain(`size=${64 * MiB}`);
    expect(tmpfs['/workspace']).toContain(`size=${128 * MiB}`);
    expect(tmpfs['/run']).toContain(`size=${1 * MiB}`);
    expect(tmpfs['/var/tmp']?.split(',')[0]).toBe('ro');
    expect(tmpfs['/tmp']?.split(',')[0]).toBe('rw');
  });

  it('passes the seccomp profile inline to Docker and makes the user own /workspace', () => {
    const host = buildContainerCreateOptions(settings({ engine: 'docker' })).HostConfig ?? {};
    expect(host.SecurityOpt).toEqual([
      'no-new-privileges',
      `seccomp=${seccompProfileJson(buildSeccompProfile())}`,
    ]);
    expect(host.Tmpfs?.['/workspace']).toContain('uid=65534,gid=65534');
  });

  it('passes the seccomp profile as a file to Podman and makes /workspace 1777', () => {
    const host =
      buildContainerCreateOptions(
        settings({ engine: 'podman', seccompProfilePath: '/state/seccomp-0123.json' }),
      ).HostConfig ?? {};
    expect(host.SecurityOpt).toEqual(['no-new-privileges', 'seccomp=/state/seccomp-0123.json']);
    expect(host.Tmpfs?.['/workspace']).toContain('mode=1777');
    expect(host.Tmpfs?.['/workspace']).not.toContain('uid=');
  });

  it('mounts host folders as given on Docker, everything else read-only whatever it says', () => {
    const options = buildContainerCreateOptions(settings({ mounts: HOST_MOUNTS }));
    expect(options.HostConfig?.Binds).toBeUndefined();
    expect(options.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'store', Target: '/packages', ReadOnly: true },
      { Type: 'bind', Source: '/srv/data', Target: '/workspace/data', ReadOnly: true },
      { Type: 'bind', Source: '/srv/out', Target: '/workspace/exports', ReadOnly: false },
      { Type: 'bind', Source: '/srv/rogue', Target: '/workspace/rogue', ReadOnly: true },
    ]);
  });

  it('binds host folders nosuid,nodev,noexec on Podman (its compat API takes options only there)', () => {
    const options = buildContainerCreateOptions(
      settings({
        engine: 'podman',
        seccompProfilePath: '/state/seccomp.json',
        mounts: HOST_MOUNTS,
      }),
    );
    expect(options.HostConfig?.Binds).toEqual([
      '/srv/data:/workspace/data:ro,nosuid,nodev,noexec',
      '/srv/out:/workspace/exports:rw,nosuid,nodev,noexec',
    ]);
    expect(options.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'store', Target: '/packages', ReadOnly: true },
      { Type: 'bind', Source: '/srv/rogue', Target: '/workspace/rogue', ReadOnly: true },
    ]);
  });

  it('sets NanoCpus only when a CPU limit is given', () => {
    expect(buildContainerCreateOptions(settings({ cpus: 1.5 })).HostConfig?.NanoCpus).toBe(1.5e9);
    expect(buildContainerCreateOptions(settings({ cpus: 0.25 })).HostConfig?.NanoCpus).toBe(2.5e8);
  });

  it('copies labels and command instead of sharing them', () => {
    const input = settings();
    const options = buildContainerCreateOptions(input);
    options.Cmd?.push('extra');
    if (options.Labels) options.Labels.extra = 'x';
    expect(input.command).toHaveLength(5);
    expect(input.labels).toEqual({ 'example.role': 'sandbox' });
  });

  it('fails closed on settings that would weaken or break the sandbox', () => {
    const bad: Partial<HardeningSettings>[] = [
      { engine: undefined },
      { engine: 'podman' },
      { engine: 'podman', seccompProfilePath: 'relative/seccomp.json' },
      { memoryBytes: 0 },
      { pidsLimit: -1 },
      { tmpSizeBytes: 1.5 },
      { nproc: 0 },
      { cpus: 0 },
      { cpus: Number.NaN },
      { command: [] },
      { user: '0:0' },
      { user: 'nobody' },
      { user: '65534' },
    ];
    for (const overrides of bad) {
      expect(
        () => buildContainerCreateOptions(settings(overrides)),
        JSON.stringify(overrides),
      ).toThrow(ConfigError);
    }
  });
});

describe('hardeningDefaults', () => {
  it('stays within the host ceilings and keeps nproc well above the pids limit', () => {
    const defaults = hardeningDefaults();
    expect(defaults.tmpSizeBytes).toBe(64 * MiB);
    expect(defaults.workspaceSizeBytes).toBe(128 * MiB);
    expect(defaults.nofile).toBeLessThanOrEqual(20_000);
    expect(defaults.nproc).toBeLessThanOrEqual(32_768);
    expect(defaults.nproc).toBeGreaterThanOrEqual(16 * 128);
  });
});

describe('expectedFacts', () => {
  it('derives what the sandbox must report from the settings', () => {
    const facts = expectedFacts(settings({ user: '1000:1001', cpus: 2 }));
    expect(facts).toMatchObject({
      uid: 1000,
      gid: 1001,
      memoryLimitBytes: 512 * MiB,
      pidsLimit: 128,
      shmSizeBytes: 8 * MiB,
      cwd: '/workspace',
      home: '/workspace',
      rlimitNofile: 4096,
      rlimitNproc: 16384,
      rlimitCore: 0,
      rlimitMsgqueue: 0,
      netInterfaces: ['lo'],
    });
    expect(facts.tmpfs).toEqual([
      { target: '/tmp', sizeBytes: 64 * MiB, readWrite: true },
      { target: '/workspace', sizeBytes: 128 * MiB, readWrite: true },
      { target: '/run', sizeBytes: 1 * MiB, readWrite: true },
      { target: '/var/tmp', sizeBytes: 1 * MiB, readWrite: false },
    ]);
  });

  it('needs no engine, so verification can use the same settings', () => {
    expect(() => expectedFacts(settings({ engine: undefined }))).not.toThrow();
  });
});

describe('parseUser', () => {
  it('accepts numeric uid:gid and refuses root', () => {
    expect(parseUser('65534:65534')).toEqual({ uid: 65534, gid: 65534 });
    expect(() => parseUser('0:65534')).toThrow(/root/);
    expect(() => parseUser('65534:')).toThrow(ConfigError);
  });

  it("refuses root's group and ids runc would refuse", () => {
    expect(() => parseUser('65534:0')).toThrow(
      "Container user must not be in root's group (gid 0)",
    );
    expect(() => parseUser('65534:000')).toThrow(/gid 0/);
    expect(() => parseUser('65534:2147483648')).toThrow(/at most 2147483647/);
    expect(() => parseUser('4294967295:65534')).toThrow(/at most 2147483647/);
    expect(parseUser('2147483647:1')).toEqual({ uid: 2147483647, gid: 1 });
  });
});
