import http from 'node:http';
import type { EngineKind } from './engine-candidates.js';

export interface PingAnswer {
  kind: EngineKind;
  version: string;
  apiVersion: string;
}

/**
 * Identifies an engine from its `/_ping` headers: Podman adds `Libpod-Api-Version`.
 * Not `/version`, which takes about 300 ms on Podman 4.3 here against 1 ms for `/_ping`,
 * and sits on the path of the first run_python call.
 */
export function pingEngine(dockerHost: string, timeoutMs: number): Promise<PingAnswer> {
  return new Promise((resolve, reject) => {
    const target = requestTarget(dockerHost);
    const request = http.get({ ...target, path: '/_ping', timeout: timeoutMs }, (response) => {
      response.resume();
      if (response.statusCode !== 200) {
        reject(new Error(`/_ping answered HTTP ${response.statusCode ?? '?'}`));
        return;
      }
      const header = (name: string) => {
        const value = response.headers[name];
        return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
      };
      const libpod = header('libpod-api-version');
      const server = /^[^/]+\/(\S+)/.exec(header('server'))?.[1] ?? '';
      resolve({
        kind: libpod ? 'podman' : 'docker',
        version: libpod || server || 'unknown',
        apiVersion: header('api-version') || 'unknown',
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

function requestTarget(dockerHost: string): http.RequestOptions {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  if (url.protocol !== 'http:') throw new Error(`unsupported engine address ${dockerHost}`);
  return { host: url.hostname, port: url.port || 2375 };
}
