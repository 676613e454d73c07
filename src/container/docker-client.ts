// First: stand-ins for dockerode's unused modules must be cached before it loads.
import './lazy-engine-modules.js';
import Dockerode from 'dockerode';
import { RuntimeUnavailableError } from '../errors.js';

/**
 * Builds a dockerode client for a DOCKER_HOST-style address. `timeoutMs` is for probes
 * only: docker-modem applies it to every request, which would cut a long-lived attach.
 */
export function dockerClient(dockerHost: string, timeoutMs?: number): Dockerode {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  if (dockerHost.startsWith('unix://')) {
    return new Dockerode({ socketPath: dockerHost.slice('unix://'.length), ...timeout });
  }
  const url = parseUrl(dockerHost);
  if (url && (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:')) {
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return new Dockerode({
      host: url.hostname,
      port: url.port || (protocol === 'https' ? 2376 : 2375),
      protocol,
      ...timeout,
    });
  }
  throw new RuntimeUnavailableError(
    `Unsupported engine address '${dockerHost}': use unix:///path/to/socket or tcp://host:port`,
  );
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
