import path from 'node:path';

export type EngineKind = 'podman' | 'docker';

export interface EngineCandidate {
  /** A Docker-API address: `unix:///path` or `tcp://host:port`. */
  dockerHost: string;
  /** Where the address came from, for error messages. */
  source: string;
  /** The engine this location usually belongs to; the answer to /version decides. */
  expected: EngineKind | undefined;
}

export interface CandidateContext {
  runtime: 'auto' | EngineKind;
  env: NodeJS.ProcessEnv;
  home: string;
  uid: number;
}

/**
 * Every place an engine's API socket usually lives: rootful and rootless Podman and
 * Docker, Docker Desktop, Podman machine, Colima and Rancher Desktop. Used only when the
 * user set no address (DOCKER_HOST, CONTAINER_HOST): one that is set is the only one
 * used (engine-locator.ts). `env` is read for XDG_RUNTIME_DIR alone.
 */
export function engineCandidates(context: CandidateContext): EngineCandidate[] {
  const { env, home, uid, runtime } = context;
  const runtimeDir = env.XDG_RUNTIME_DIR ?? `/run/user/${uid}`;
  const unix = (socketPath: string, source: string, expected: EngineKind): EngineCandidate => ({
    dockerHost: `unix://${socketPath}`,
    source,
    expected,
  });

  const podman = [
    unix('/run/podman/podman.sock', 'rootful Podman', 'podman'),
    unix(path.join(runtimeDir, 'podman/podman.sock'), 'rootless Podman', 'podman'),
    unix(
      path.join(home, '.local/share/containers/podman/machine/podman.sock'),
      'Podman machine',
      'podman',
    ),
    unix(
      path.join(home, '.local/share/containers/podman/machine/qemu/podman.sock'),
      'Podman machine (qemu)',
      'podman',
    ),
  ];
  const docker = [
    unix('/var/run/docker.sock', 'Docker', 'docker'),
    unix(path.join(runtimeDir, 'docker.sock'), 'rootless Docker', 'docker'),
    unix(path.join(home, '.docker/run/docker.sock'), 'Docker Desktop', 'docker'),
    unix(path.join(home, '.docker/desktop/docker.sock'), 'Docker Desktop', 'docker'),
    unix(path.join(home, '.colima/default/docker.sock'), 'Colima', 'docker'),
    unix(path.join(home, '.rd/docker.sock'), 'Rancher Desktop', 'docker'),
  ];
  const wellKnown =
    runtime === 'docker' ? docker : runtime === 'podman' ? podman : [...podman, ...docker];
  const seen = new Set<string>();
  return wellKnown.filter((candidate) => {
    if (seen.has(candidate.dockerHost)) return false;
    seen.add(candidate.dockerHost);
    return true;
  });
}
