import { existsSync } from 'node:fs';
import os from 'node:os';
import type Dockerode from 'dockerode';
import type { BridgeConfig, EngineAddress } from '../config/env.js';
import { EngineAddressError, RuntimeUnavailableError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { dockerClient } from './docker-client.js';
import { engineCandidates, type EngineCandidate, type EngineKind } from './engine-candidates.js';
import { pingEngine } from './engine-ping.js';
import { findExecutable } from './find-executable.js';
import { startPodmanService, type OwnedPodmanService } from './podman-service.js';

export interface LocatedEngine {
  docker: Dockerode;
  kind: EngineKind;
  version: string;
  apiVersion: string;
  dockerHost: string;
  source: string;
  /** Set when we started the Podman service ourselves and must stop it at exit. */
  ownedService: OwnedPodmanService | undefined;
}

const PROBE_TIMEOUT_MS = 3000;
const SERVICE_START_TIMEOUT_MS = 15_000;

/** What decides where the engine is: the runtime setting and the address the user set. */
export type EngineRequest = Pick<BridgeConfig, 'runtime' | 'engineAddress'>;

/**
 * Connects to the engine at the address the user set (DOCKER_HOST, else CONTAINER_HOST)
 * and nowhere else. Without one, finds a reachable Docker-API engine at the well-known
 * places; when none answers but the `podman` binary exists, starts `podman system
 * service` and uses that. `places` replaces the well-known list and PATH (tests).
 */
export async function locateEngine(
  request: EngineRequest,
  logger: Logger,
  places: {
    candidates?: EngineCandidate[];
    searchPath?: string | undefined;
  } = {},
): Promise<LocatedEngine> {
  const { runtime, engineAddress } = request;
  // Security: an address the user set is authoritative, as with the Docker CLI. Falling
  // back could land a user who chose rootless Podman or a remote engine on rootful Docker.
  if (engineAddress) return connectToAddress(engineAddress, runtime, logger);
  const candidates =
    places.candidates ??
    engineCandidates({ runtime, env: process.env, home: os.homedir(), uid: os.userInfo().uid });
  const tried: string[] = [];
  for (const candidate of candidates) {
    if (candidate.dockerHost.startsWith('unix://') && !existsSync(candidate.dockerHost.slice(7))) {
      continue;
    }
    const result = await probe(candidate);
    if (typeof result === 'string') {
      tried.push(`${candidate.dockerHost} (${candidate.source}): ${result}`);
      continue;
    }
    if (runtime !== 'auto' && result.kind !== runtime) {
      tried.push(
        `${candidate.dockerHost} (${candidate.source}): is ${result.kind}, not ${runtime}`,
      );
      continue;
    }
    logger.info(
      { engine: result.kind, version: result.version, dockerHost: candidate.dockerHost },
      'container engine found',
    );
    return { ...result, ownedService: undefined };
  }

  const podman = runtime === 'docker' ? undefined : findExecutable('podman', places.searchPath);
  if (podman) {
    const service = startPodmanService(podman, logger);
    const candidate = {
      dockerHost: service.dockerHost,
      source: 'podman system service (started by the bridge)',
      expected: 'podman' as const,
    };
    const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
    let last = 'did not answer';
    while (Date.now() < deadline) {
      if (existsSync(service.dockerHost.slice(7))) {
        const result = await probe(candidate);
        if (typeof result !== 'string') return { ...result, ownedService: service };
        last = result;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await service.stop();
    tried.push(`${service.dockerHost} (podman system service we started): ${last}`);
  }
  throw new RuntimeUnavailableError(noEngineMessage(runtime, tried));
}

/** The engine at `where`, or an EngineAddressError that names the variable and address. */
async function connectToAddress(
  where: EngineAddress,
  runtime: 'auto' | EngineKind,
  logger: Logger,
): Promise<LocatedEngine> {
  const setting = `${where.variable}=${where.address}`;
  const unreachable = (reason: string) =>
    new EngineAddressError(
      'engine_address_unreachable',
      where,
      [
        `No container engine answers at ${setting}: ${reason}.`,
        `The bridge uses only the engine address you set (as the Docker CLI does) and tries no other engine.`,
        `To fix: start the engine that serves ${where.address}, correct ${where.variable} (unix:///path/to/socket or tcp://host:port),`,
        `or unset ${where.variable} to let the bridge find a local Podman or Docker.`,
        'Then run: npx mcp-server-code-execution-mode doctor',
      ].join('\n'),
    );
  const reason = addressProblem(where.address);
  if (reason) throw unreachable(reason);
  const result = await probe({
    dockerHost: where.address,
    source: where.variable,
    expected: undefined,
  });
  if (typeof result === 'string') throw unreachable(result);
  if (runtime !== 'auto' && result.kind !== runtime) {
    throw new EngineAddressError(
      'engine_address_wrong_engine',
      where,
      [
        `The engine at ${setting} is ${result.kind} ${result.version}, but MCP_BRIDGE_RUNTIME=${runtime}.`,
        `The bridge uses only the engine address you set and tries no other engine.`,
        `To fix: point ${where.variable} at a ${runtime} socket, or set MCP_BRIDGE_RUNTIME=${result.kind} (or auto).`,
      ].join('\n'),
    );
  }
  logger.info(
    {
      engine: result.kind,
      version: result.version,
      dockerHost: where.address,
      source: where.variable,
    },
    'container engine found',
  );
  return { ...result, ownedService: undefined };
}

/** Why an address cannot be an engine's, before asking it anything; undefined if it may. */
function addressProblem(address: string): string | undefined {
  if (address.startsWith('unix://')) {
    const socketPath = address.slice('unix://'.length);
    return existsSync(socketPath) ? undefined : `there is no socket at ${socketPath}`;
  }
  if (/^(tcp|http):\/\/[^/]/.test(address)) return undefined;
  return 'the bridge supports only unix:// and tcp:// addresses (no ssh://, npipe:// or TLS)';
}

async function probe(
  candidate: EngineCandidate,
): Promise<Omit<LocatedEngine, 'ownedService'> | string> {
  try {
    const answer = await pingEngine(candidate.dockerHost, PROBE_TIMEOUT_MS);
    return {
      ...answer,
      docker: dockerClient(candidate.dockerHost),
      dockerHost: candidate.dockerHost,
      source: candidate.source,
    };
  } catch (error: unknown) {
    return errorMessage(error);
  }
}

function noEngineMessage(runtime: 'auto' | EngineKind, tried: string[]): string {
  const wanted =
    runtime === 'auto' ? 'Podman or Docker' : runtime === 'podman' ? 'Podman' : 'Docker';
  const lines = [
    `No container engine is reachable: run_python needs ${wanted} to run code in a sandbox.`,
    tried.length > 0
      ? `Tried:\n  ${tried.join('\n  ')}`
      : 'No engine API socket was found in the usual places.',
    'To fix: install Podman (Debian/Ubuntu: sudo apt-get install podman; macOS: brew install podman && podman machine init && podman machine start)',
    'or Docker (https://docs.docker.com/get-docker/) and make sure it is running,',
    'or set DOCKER_HOST to your engine API socket (e.g. unix:///run/podman/podman.sock).',
    'Then run: npx mcp-server-code-execution-mode doctor',
  ];
  return lines.join('\n');
}
