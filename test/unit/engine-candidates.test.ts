import { describe, it, expect } from 'vitest';
import {
  engineCandidates,
  type CandidateContext,
  type EngineCandidate,
} from '../../src/container/engine-candidates.js';

const home = '/home/alice';

function candidates(overrides: Partial<CandidateContext>): EngineCandidate[] {
  return engineCandidates({ runtime: 'auto', env: {}, home, uid: 1000, ...overrides });
}

function hosts(list: EngineCandidate[]): string[] {
  return list.map((candidate) => candidate.dockerHost);
}

describe('engineCandidates', () => {
  it('puts DOCKER_HOST first, with no engine assumed', () => {
    const list = candidates({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' } });
    expect(list[0]).toEqual({
      dockerHost: 'tcp://10.0.0.5:2375',
      source: 'DOCKER_HOST',
      expected: undefined,
    });
  });

  it('puts DOCKER_HOST first whatever the runtime setting', () => {
    for (const runtime of ['auto', 'podman', 'docker'] as const) {
      const list = candidates({ runtime, env: { DOCKER_HOST: 'unix:///custom/engine.sock' } });
      expect(list[0]?.dockerHost).toBe('unix:///custom/engine.sock');
    }
  });

  it('follows DOCKER_HOST with CONTAINER_HOST, expected to be Podman', () => {
    const list = candidates({
      env: { DOCKER_HOST: 'unix:///a.sock', CONTAINER_HOST: 'unix:///b.sock' },
    });
    expect(list.slice(0, 2)).toEqual([
      { dockerHost: 'unix:///a.sock', source: 'DOCKER_HOST', expected: undefined },
      { dockerHost: 'unix:///b.sock', source: 'CONTAINER_HOST', expected: 'podman' },
    ]);
  });

  it('runtime=podman lists only Podman sockets after the explicit ones', () => {
    const list = candidates({ runtime: 'podman', env: { DOCKER_HOST: 'unix:///x.sock' } });
    expect(list[0]?.source).toBe('DOCKER_HOST');
    const wellKnown = list.slice(1);
    expect(wellKnown.length).toBeGreaterThan(0);
    expect(wellKnown.every((candidate) => candidate.expected === 'podman')).toBe(true);
    expect(hosts(wellKnown)).toContain('unix:///run/podman/podman.sock');
    expect(hosts(wellKnown)).toContain('unix:///run/user/1000/podman/podman.sock');
    expect(hosts(list).some((host) => host.includes('docker.sock'))).toBe(false);
  });

  it('runtime=docker lists only Docker sockets', () => {
    const list = candidates({ runtime: 'docker' });
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((candidate) => candidate.expected === 'docker')).toBe(true);
    expect(hosts(list)).toContain('unix:///var/run/docker.sock');
    expect(hosts(list)).toContain(`unix://${home}/.docker/run/docker.sock`);
    expect(hosts(list).some((host) => host.includes('podman'))).toBe(false);
  });

  it('runtime=auto tries both engines, Podman first', () => {
    const list = candidates({});
    const kinds = list.map((candidate) => candidate.expected);
    expect(kinds).toContain('podman');
    expect(kinds).toContain('docker');
    expect(kinds.lastIndexOf('podman')).toBeLessThan(kinds.indexOf('docker'));
  });

  it('uses /run/user/<uid> when XDG_RUNTIME_DIR is unset', () => {
    const list = candidates({ uid: 4242 });
    expect(hosts(list)).toContain('unix:///run/user/4242/podman/podman.sock');
    expect(hosts(list)).toContain('unix:///run/user/4242/docker.sock');
  });

  it('honours XDG_RUNTIME_DIR for rootless sockets', () => {
    const list = candidates({ uid: 4242, env: { XDG_RUNTIME_DIR: '/tmp/xdg-alice' } });
    expect(hosts(list)).toContain('unix:///tmp/xdg-alice/podman/podman.sock');
    expect(hosts(list)).toContain('unix:///tmp/xdg-alice/docker.sock');
    expect(hosts(list).some((host) => host.includes('/run/user/'))).toBe(false);
  });

  it('builds home-relative sockets from the given home', () => {
    const list = candidates({});
    expect(hosts(list)).toContain(
      `unix://${home}/.local/share/containers/podman/machine/podman.sock`,
    );
    expect(hosts(list)).toContain(`unix://${home}/.colima/default/docker.sock`);
  });

  it('lists every address once, keeping the explicit entry', () => {
    const list = candidates({
      env: {
        DOCKER_HOST: 'unix:///var/run/docker.sock',
        CONTAINER_HOST: 'unix:///run/podman/podman.sock',
      },
    });
    expect(new Set(hosts(list)).size).toBe(list.length);
    expect(list.find((c) => c.dockerHost === 'unix:///var/run/docker.sock')?.source).toBe(
      'DOCKER_HOST',
    );
    expect(list.find((c) => c.dockerHost === 'unix:///run/podman/podman.sock')?.source).toBe(
      'CONTAINER_HOST',
    );
    expect(list.filter((c) => c.dockerHost === 'unix:///var/run/docker.sock')).toHaveLength(1);
  });

  it('has no duplicates for any runtime setting', () => {
    for (const runtime of ['auto', 'podman', 'docker'] as const) {
      const list = candidates({ runtime });
      expect(new Set(hosts(list)).size).toBe(list.length);
    }
  });
});
