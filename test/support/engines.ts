import { describe, it } from 'vitest';

export type TestEngineName = 'podman' | 'docker';

/** One container engine that container tests run against. */
export interface TestEngine {
  name: TestEngineName;
  /** Docker-API address, e.g. unix:///run/podman/podman.sock. */
  dockerHost: string;
}

const ENGINE_VARIABLES: Readonly<Record<TestEngineName, string>> = {
  podman: 'MCP_BRIDGE_TEST_PODMAN_HOST',
  docker: 'MCP_BRIDGE_TEST_DOCKER_HOST',
};

const DEFAULT_TEST_IMAGE = 'localhost/mcp-sandbox:test';

const HOW_TO_RUN =
  'Prepare this host with `eval "$(bash scripts/test-host-setup.sh)"` (it sets ' +
  'MCP_BRIDGE_TEST_PODMAN_HOST, MCP_BRIDGE_TEST_DOCKER_HOST and MCP_BRIDGE_IMAGE), then rerun.';

/** Engines whose API address is set for container tests, Podman first. */
export function testEngines(env: NodeJS.ProcessEnv = process.env): TestEngine[] {
  const engines: TestEngine[] = [];
  for (const name of ['podman', 'docker'] as const) {
    const dockerHost = env[ENGINE_VARIABLES[name]]?.trim();
    if (dockerHost) engines.push({ name, dockerHost });
  }
  return engines;
}

/** The sandbox image for container tests: MCP_BRIDGE_IMAGE, else the setup script's. */
export function testImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.MCP_BRIDGE_IMAGE?.trim() || DEFAULT_TEST_IMAGE;
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/**
 * Declares `body` once per engine, as `title [podman]` and `title [docker]`. An engine
 * whose variable is unset is skipped with a warning saying how to run it; under CI it
 * becomes a failing test instead, so a misconfigured CI cannot pass by skipping.
 */
export function describeEachEngine(
  title: string,
  body: (engine: TestEngine) => void,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const configured = testEngines(env);
  for (const name of ['podman', 'docker'] as const) {
    const label = `${title} [${name}]`;
    const engine = configured.find((candidate) => candidate.name === name);
    if (engine) {
      describe(label, () => body(engine));
      continue;
    }
    const reason = `${ENGINE_VARIABLES[name]} is not set, so nothing runs against ${name}.`;
    if (isCi(env)) {
      describe(label, () => {
        it(`has a ${name} engine to test against`, () => {
          throw new Error(
            `${reason} CI must run the container tests on both engines. ${HOW_TO_RUN}`,
          );
        });
      });
    } else {
      console.warn(`SKIPPED "${label}": ${reason} ${HOW_TO_RUN}`);
      describe.skip(label, () => {
        it(`needs ${ENGINE_VARIABLES[name]}`, () => undefined);
      });
    }
  }
}
