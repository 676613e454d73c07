import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import path from 'node:path';
import type { BridgeConfig } from './config/env.js';
import type { EngineKind } from './container/engine-candidates.js';
import { locateEngine } from './container/engine-locator.js';
import { buildContainerCreateOptions, hardeningDefaults } from './container/hardening.js';
import { ownerLabels } from './container/labels.js';
import { writeSeccompProfileFile } from './container/seccomp-file.js';
import { verifyHardening } from './container/verify-hardening.js';
import type { Logger } from './logger.js';
import { CAPABILITY_SUMMARY } from './server/capabilities.js';
import { createMcpServer } from './server/mcp-server.js';
import { loadSandboxSources, type GeneratedModules } from './session/boot-modules.js';
import type { SandboxBlueprint } from './session/live-sandbox.js';
import { SandboxSession } from './session/sandbox-session.js';

/** The composition root: the only module that knows every part of the bridge. */
export class BridgeApp {
  readonly session: SandboxSession;
  readonly server: Server;
  #closing: Promise<void> | undefined;

  constructor(config: BridgeConfig, logger: Logger, version: string) {
    this.session = new SandboxSession({
      config,
      logger,
      sources: () => loadSandboxSources(sandboxData()),
      connectEngine: () => locateEngine(config.runtime, logger.child({ component: 'engine' })),
      blueprint: (engine) => sandboxBlueprint(config, engine.kind),
    });
    this.server = createMcpServer({ config, session: this.session, logger, version });
  }

  async start(transport: Transport): Promise<void> {
    await this.server.connect(transport);
    this.session.warmUp();
  }

  /** Removes the sandbox, ends child processes, closes the MCP channel; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.session.close();
      await this.server.close();
    })();
    return this.#closing;
  }
}

export function sandboxBlueprint(config: BridgeConfig, engine: EngineKind): SandboxBlueprint {
  const settings = {
    engine,
    // Podman's compat API takes the seccomp profile only as a file path (podman#27710).
    seccompProfilePath:
      engine === 'podman'
        ? writeSeccompProfileFile(path.join(config.stateDir, 'runtime'))
        : undefined,
    image: config.image,
    user: config.containerUser,
    memoryBytes: config.memoryBytes,
    pidsLimit: config.pidsLimit,
    cpus: config.cpus,
    ...hardeningDefaults(),
    labels: ownerLabels('sandbox'),
  };
  return {
    createOptions: (command) => buildContainerCreateOptions({ ...settings, command }),
    verify: (facts) => verifyHardening(facts, { ...settings, command: [] }),
    memoryLimitBytes: config.memoryBytes,
  };
}

/** Host data the in-sandbox `mcp` package reads. */
export function sandboxData(): GeneratedModules {
  return {
    'mcp._capabilities': { TEXT: CAPABILITY_SUMMARY, SERVERS: [], SERVER_DETAILS: [] },
  };
}
