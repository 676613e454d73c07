import { describe, it, expect } from 'vitest';
import {
  engineCandidates,
  type CandidateContext,
  type EngineCandidate,
} from '../../../src/container/engine-candidates.js';

const home = '/home/alice';

function candidates(overrides: Partial<CandidateContext>): EngineCandidate[] {
  return engineCandidates({ runtime: 'auto', env: {}, home, uid: 1000, ...overrides });
}

function hosts(list: EngineCandidate[]): string[] {
  return list.map((candidate) => candidate.dockerHost);
}

describe('engineCandidates', () => {
  it('lists only well-known places: an address the user set is not a candidate', () => {
    const list = candidates({
      env: { DOCKER_HOST: 'tcp://10.0.0.5:2375', CONTAINER_HOST: 'unix:///custom/podman.sock' },
    });
    expect(hosts(list)).not.toContain('tcp://10.0.0.5:2375');
    expect(hosts(list)).not.toContain('unix:///custom/podman.sock');
    expect(list.map((candidate) => candidate.source)).not.toContain('DOCKER_HOST');
    expect(hosts(list)).toEqual(hosts(candidates({})));
  });

  it('runtime=podman lists only Podman sockets', () => {
    const list = candidates({ runtime: 'podman' });
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((candidate) => candidate.expected === 'podman')).toBe(true);
    expect(hosts(list)).toContain('unix:///run/podman/podman.sock');
    expect(hosts(list)).toContain('unix:///run/user/1000/podman/podman.sock');
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

  it('has no duplicates for any runtime setting', () => {
    for (const runtime of ['auto', 'podman', 'docker'] as const) {
      const list = candidates({ runtime });
      expect(new Set(hosts(list)).size).toBe(list.length);
    }
  });
});
