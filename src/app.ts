import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { LANE_MOUNT } from './channel/socket-lane.js';
import type { BridgeConfig } from './config/env.js';
import { loadServerDefinitions } from './config/servers-config.js';
import type { EngineKind } from './container/engine-candidates.js';
import { locateEngine, type LocatedEngine } from './container/engine-locator.js';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
  type HardeningSettings,
  type SandboxMount,
} from './container/hardening.js';
import { ownerLabels } from './container/labels.js';
import { writeSeccompProfileFile } from './container/seccomp-file.js';
import { gvisorSeccompProfile } from './container/seccomp-gvisor.js';
import { buildSeccompProfile } from './container/seccomp-profile.js';
import { verifyHardening } from './container/verify-hardening.js';
import type { Logger } from './logger.js';
import { PackageManager } from './packages/package-manager.js';
import { sandboxStoreMount } from './packages/package-store.js';
import { prepareCallServers } from './proxy/call-servers.js';
import { ServerCatalog } from './proxy/server-catalog.js';
import { CAPABILITY_SUMMARY } from './server/capabilities.js';
import { createMcpServer } from './server/mcp-server.js';
import { warmServerPaths } from './server/warm-paths.js';
import { loadSandboxSources, type GeneratedModules } from './session/boot-modules.js';
import type { SandboxBlueprint } from './session/sandbox-blueprint.js';
import { SandboxSession } from './session/sandbox-session.js';
import { HistoryStore } from './state/history-store.js';
import { planSavedToolLoad } from './state/saved-tool-loader.js';
import { SavedToolStore } from './state/saved-tools.js';
import { UpstreamRegistry } from './upstream/upstream-registry.js';
import {
  beginCallTiming,
  enableCallTiming,
  finishCallTiming,
  markStage,
  noteMessageParsed,
} from './util/call-timing.js';

/** The composition root: the only module that knows every part of the bridge. */
export class BridgeApp {
  readonly session: SandboxSession;
  readonly server: Server;
  readonly #upstream: UpstreamRegistry;
  readonly #history: HistoryStore;
  readonly #timing: Logger | undefined;
  readonly #config: BridgeConfig;
  #closing: Promise<void> | undefined;

  constructor(config: BridgeConfig, logger: Logger, version: string) {
    this.#config = config;
    this.#timing = config.timing ? logger.child({ component: 'timing' }) : undefined;
    const definitions = loadServerDefinitions({
      stateDir: config.stateDir,
      serversConfigPath: config.serversConfigPath,
      allowSelfServer: config.allowSelfServer,
      clientConfigs: config.clientConfigs,
      home: os.homedir(),
      platform: process.platform,
      env: process.env,
      logger: logger.child({ component: 'config' }),
    });
    this.#upstream = new UpstreamRegistry(definitions, logger.child({ component: 'upstream' }));
    const catalog = new ServerCatalog({
      definitions,
      lister: this.#upstream,
      stateDir: config.stateDir,
      logger,
    });
    const savedTools = new SavedToolStore(
      config.stateDir,
      logger.child({ component: 'saved-tools' }),
    );
    this.#history = HistoryStore.open(config.stateDir, {
      maxEntries: config.executor.maxHistory,
      logger: logger.child({ component: 'history' }),
    });
    // Package installs (src/packages): the installer uses the sandbox's engine connection
    // and hardening; the store volume exists before the first sandbox mounts it.
    const engine = shareEngine(() => locateEngine(config, logger.child({ component: 'engine' })));
    const packages = new PackageManager({
      config: config.packages,
      engine,
      hardening: (located) => sandboxHardening(config, located.kind),
      logger: logger.child({ component: 'packages' }),
    });
    this.session = new SandboxSession({
      config,
      logger,
      sources: () => loadSandboxSources(sandboxData(catalog)),
      // Saved tools load as the first cell of every new sandbox (docs/protocol.md).
      startup: () => planSavedToolLoad(savedTools, logger.child({ component: 'saved-tools' })),
      connectEngine: async () => {
        const located = await engine();
        await packages.prepareStore(located);
        return located;
      },
      blueprint: (located) => sandboxBlueprint(config, located.kind, located.dockerHost),
    });
    // Owner of this process's history records: the sandbox reads only these.
    const sessionId = randomUUID();
    const history = this.#history;
    this.server = createMcpServer({
      config,
      session: this.session,
      sessionId,
      history: this.#history,
      packages,
      servers: {
        names: () => catalog.names(),
        prepare: (names) =>
          prepareCallServers(names, {
            catalog,
            caller: this.#upstream,
            savedTools,
            packages,
            history: { ownRecent: (limit) => history.recent(limit, { session: sessionId }) },
          }),
      },
      logger,
      version,
    });
  }

  async start(transport: Transport): Promise<void> {
    // The sandbox starts once the client has initialized, not at its first call: clients
    // send that call seconds later, by when the sandbox is ready (docs/architecture.md).
    this.server.oninitialized = () => {
      this.session.prewarm();
      // While the engine works: compile the host side of a call (src/server/warm-paths.ts).
      setImmediate(() => warmServerPaths(this.#config));
    };
    if (this.#timing) timeCalls(this.#timing); // before connect: first to see stdin
    await this.server.connect(transport);
    if (this.#timing) timeResponses(transport);
    this.session.warmUp();
  }

  /** Removes the sandbox, ends child processes, closes the MCP channel; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([this.session.close(), this.#upstream.close()]);
      await this.server.close();
      this.#history.close();
    })();
    return this.#closing;
  }
}

/**
 * MCP_BRIDGE_TIMING: each call's stages go to the log (ms since its first byte arrived),
 * with the runner's own figures; bench/README.md reads them. Only set up when on.
 */
function timeCalls(logger: Logger): void {
  enableCallTiming((record) => {
    const start = record.stages[0]?.[1] ?? 0;
    const stages = record.stages.map(([stage, at]) => [stage, Number((at - start).toFixed(4))]);
    logger.info({ stages, runner: record.runner }, 'call timing');
  });
  process.stdin.on('data', beginCallTiming); // the stdio transport's input
}

/** Wraps the connected transport: when a message is parsed, when its response is written. */
function timeResponses(transport: Transport): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    noteMessageParsed('id' in message && 'method' in message);
    deliver?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    markStage('response write');
    await send(message, options);
    finishCallTiming();
  };
}

/** The sandbox's hardening settings, less its command and labels (the installer's too). */
export function sandboxHardening(
  config: BridgeConfig,
  engine: EngineKind,
): Omit<HardeningSettings, 'command' | 'labels'> {
  // With runsc on Podman every container of that service runs under gVisor, the package
  // installer's too (Podman ignores the runtime a container asks for): all get gVisor's
  // settings. On Docker only the sandbox asks for runsc (sandboxBlueprint); the installer
  // keeps the default runtime, which can reach the package index.
  const ociRuntime = config.ociRuntime === 'runsc' && engine === 'podman' ? 'runsc' : undefined;
  return {
    engine,
    ociRuntime,
    // Podman's compat API takes the seccomp profile only as a file path (podman#27710).
    seccompProfilePath:
      engine === 'podman'
        ? writeSeccompProfileFile(
            path.join(config.stateDir, 'runtime'),
            ociRuntime === 'runsc' ? gvisorSeccompProfile() : buildSeccompProfile(),
          )
        : undefined,
    image: config.image,
    user: config.containerUser,
    memoryBytes: config.memoryBytes,
    pidsLimit: config.pidsLimit,
    cpus: config.cpus,
    ...hardeningDefaults(),
  };
}

export function sandboxBlueprint(
  config: BridgeConfig,
  engine: EngineKind,
  dockerHost: string,
): SandboxBlueprint {
  const settings = {
    ...sandboxHardening(config, engine),
    labels: ownerLabels('sandbox'),
    // Package installs (src/packages): the store, read-only at /packages.
    mounts: [sandboxStoreMount(config.packages.volume)],
    // The sandbox always asks for the configured runtime (see sandboxHardening).
    ociRuntime: config.ociRuntime,
  };
  return {
    // The lane's folder is mounted only at create (a start without it falls back to stdio);
    // verify() checks the store alone.
    createOptions: (command, laneDir) =>
      buildContainerCreateOptions({
        ...settings,
        command,
        mounts: laneDir ? [...settings.mounts, laneMount(laneDir)] : settings.mounts,
      }),
    // A remote engine cannot mount our folder; one in a VM fails later and falls back.
    // gVisor refuses to connect to a host socket (EPERM) unless runsc runs with
    // --host-uds, which would open more of the host to it than the lane is worth.
    socketLane:
      config.channel === 'auto' &&
      dockerHost.startsWith('unix://') &&
      config.ociRuntime !== 'runsc',
    verify: (facts) => verifyHardening(facts, { ...settings, command: [] }),
    memoryLimitBytes: config.memoryBytes,
    gvisor: config.ociRuntime === 'runsc',
  };
}

/** The socket lane's host folder (src/channel/socket-lane.ts), seen at LANE_MOUNT. */
function laneMount(hostDir: string): SandboxMount {
  return {
    name: 'the socket lane',
    mount: { Type: 'bind', Source: hostDir, Target: LANE_MOUNT, ReadOnly: true },
  };
}

/** Host data the in-sandbox `mcp` package reads, fresh for each new sandbox. */
export function sandboxData(catalog?: ServerCatalog): GeneratedModules {
  return {
    'mcp._capabilities': {
      TEXT: CAPABILITY_SUMMARY,
      SERVERS: catalog?.names() ?? [],
      SERVER_DETAILS: catalog?.discovered() ?? [],
    },
  };
}

/**
 * One engine connection for everyone who needs it (the session, package installs). A
 * failure is not kept: the user may start their engine and call again.
 */
function shareEngine(connect: () => Promise<LocatedEngine>): () => Promise<LocatedEngine> {
  let pending: Promise<LocatedEngine> | undefined;
  return () => {
    pending ??= connect().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
