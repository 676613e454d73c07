import { describe, it } from 'vitest';

export type TestEngineName = 'podman' | 'docker';

/** One container engine (and OCI runtime) that container tests run against. */
export interface TestEngine {
  /** The engine's kind: how the bridge must talk to it (e.g. seccomp as a file on Podman). */
  name: TestEngineName;
  /** Docker-API address, e.g. unix:///run/podman/podman.sock. */
  dockerHost: string;
  /** Set for the gVisor engine: the sandbox runs under runsc (MCP_BRIDGE_OCI_RUNTIME). */
  ociRuntime?: 'runsc';
  /** How test titles name it: `podman`, `docker`, `gvisor`. */
  label: string;
  /** Variables a bridge started for this engine needs besides DOCKER_HOST. */
  bridgeEnv: Record<string, string>;
}

const ENGINE_VARIABLES: Readonly<Record<TestEngineName, string>> = {
  podman: 'MCP_BRIDGE_TEST_PODMAN_HOST',
  docker: 'MCP_BRIDGE_TEST_DOCKER_HOST',
};

/** An engine with runsc registered (by default a Podman service; see scripts/test-host-setup.sh). */
const GVISOR_VARIABLE = 'MCP_BRIDGE_TEST_GVISOR_HOST';
/** `docker` when the gVisor engine is a dockerd with runsc in daemon.json `runtimes`. */
const GVISOR_KIND_VARIABLE = 'MCP_BRIDGE_TEST_GVISOR_ENGINE';

const DEFAULT_TEST_IMAGE = 'localhost/mcp-sandbox:test';

const HOW_TO_RUN =
  'Prepare this host with `eval "$(bash scripts/test-host-setup.sh)"` (it sets ' +
  'MCP_BRIDGE_TEST_PODMAN_HOST, MCP_BRIDGE_TEST_DOCKER_HOST, MCP_BRIDGE_TEST_GVISOR_HOST ' +
  'and MCP_BRIDGE_IMAGE), then rerun.';

/** Engines whose API address is set for container tests, Podman first. */
export function testEngines(env: NodeJS.ProcessEnv = process.env): TestEngine[] {
  const engines: TestEngine[] = [];
  for (const name of ['podman', 'docker'] as const) {
    const dockerHost = env[ENGINE_VARIABLES[name]]?.trim();
    if (dockerHost) engines.push({ name, dockerHost, label: name, bridgeEnv: {} });
  }
  return engines;
}

/** The gVisor engine, when MCP_BRIDGE_TEST_GVISOR_HOST is set. */
export function gvisorTestEngine(env: NodeJS.ProcessEnv = process.env): TestEngine | undefined {
  const dockerHost = env[GVISOR_VARIABLE]?.trim();
  if (!dockerHost) return undefined;
  const kind = env[GVISOR_KIND_VARIABLE]?.trim().toLowerCase() === 'docker' ? 'docker' : 'podman';
  return {
    name: kind,
    dockerHost,
    ociRuntime: 'runsc',
    label: 'gvisor',
    bridgeEnv: { MCP_BRIDGE_OCI_RUNTIME: 'runsc' },
  };
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
    const engine = configured.find((candidate) => candidate.name === name);
    describeOn(title, name, engine, ENGINE_VARIABLES[name], body, env);
  }
}

/**
 * describeEachEngine, and also `title [gvisor]`: the sandbox under runsc on the engine at
 * MCP_BRIDGE_TEST_GVISOR_HOST (skipped, or failing under CI, like the others when unset).
 * Opt-in per file: gVisor is slower, so CI runs the hardening and escape tests on it, not
 * the whole suite. A bridge started for it needs `engine.bridgeEnv`; create options need
 * `engine.ociRuntime`.
 */
export function describeEachEngineAndGvisor(
  title: string,
  body: (engine: TestEngine) => void,
  env: NodeJS.ProcessEnv = process.env,
): void {
  describeEachEngine(title, body, env);
  describeOn(title, 'gvisor', gvisorTestEngine(env), GVISOR_VARIABLE, body, env);
}

function describeOn(
  title: string,
  label: string,
  engine: TestEngine | undefined,
  variable: string,
  body: (engine: TestEngine) => void,
  env: NodeJS.ProcessEnv,
): void {
  const fullTitle = `${title} [${label}]`;
  if (engine) {
    describe(fullTitle, () => body(engine));
    return;
  }
  const reason = `${variable} is not set, so nothing runs against ${label}.`;
  if (isCi(env)) {
    describe(fullTitle, () => {
      it(`has a ${label} engine to test against`, () => {
        throw new Error(`${reason} CI must run the container tests on every engine. ${HOW_TO_RUN}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${fullTitle}": ${reason} ${HOW_TO_RUN}`);
    describe.skip(fullTitle, () => {
      it(`needs ${variable}`, () => undefined);
    });
  }
}
