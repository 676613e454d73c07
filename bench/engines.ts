import type Dockerode from 'dockerode';
import { dockerClient } from '../src/container/docker-client.js';
import type { EngineKind } from '../src/container/engine-candidates.js';
import { LABELS } from '../src/container/labels.js';

/** One engine to benchmark, as found from the environment. */
export interface BenchEngine {
  /** "podman" or "docker": what the engine says it is (decides the seccomp spelling). */
  kind: EngineKind;
  /** Where it came from, e.g. MCP_BRIDGE_TEST_PODMAN_HOST. */
  source: string;
  dockerHost: string;
  docker: Dockerode;
  version: string;
}

/** A setup problem the user fixes; printed without a stack trace. */
export class BenchSetupError extends Error {}

const TEST_VARIABLES = ['MCP_BRIDGE_TEST_PODMAN_HOST', 'MCP_BRIDGE_TEST_DOCKER_HOST'] as const;

/**
 * Every engine named by MCP_BRIDGE_TEST_PODMAN_HOST / MCP_BRIDGE_TEST_DOCKER_HOST (what
 * scripts/test-host-setup.sh exports); if neither is set, DOCKER_HOST alone. Each is asked
 * what it is, so a variable pointing at the other engine cannot mislabel the figures.
 */
export async function benchEngines(env: NodeJS.ProcessEnv = process.env): Promise<BenchEngine[]> {
  const wanted: { source: string; dockerHost: string }[] = [];
  for (const name of TEST_VARIABLES) {
    const dockerHost = env[name]?.trim();
    if (dockerHost) wanted.push({ source: name, dockerHost });
  }
  const fallback = env.DOCKER_HOST?.trim();
  if (wanted.length === 0 && fallback) wanted.push({ source: 'DOCKER_HOST', dockerHost: fallback });
  if (wanted.length === 0) {
    throw new BenchSetupError(
      'No engine to benchmark: run `eval "$(bash scripts/test-host-setup.sh)"` first, or set DOCKER_HOST.',
    );
  }
  const engines: BenchEngine[] = [];
  for (const { source, dockerHost } of wanted) {
    const docker = dockerClient(dockerHost);
    const version = await docker.version();
    const isPodman = (version.Components ?? []).some((component) => /podman/i.test(component.Name));
    engines.push({
      kind: isPodman ? 'podman' : 'docker',
      source,
      dockerHost,
      docker,
      version: version.Version,
    });
  }
  return engines;
}

export interface ManagedContainer {
  id: string;
  ownerPid: string | undefined;
  role: string | undefined;
  state: string;
}

/** Containers carrying our `managed=true` label on this engine, running or not. */
export async function managedContainers(docker: Dockerode): Promise<ManagedContainer[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`] },
  });
  return list.map((info) => ({
    id: info.Id.slice(0, 12),
    ownerPid: info.Labels[LABELS.ownerPid],
    role: info.Labels[LABELS.role],
    state: info.State,
  }));
}
