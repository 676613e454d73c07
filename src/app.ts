import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { LANE_MOUNT } from './channel/socket-lane.js';
import type { BridgeConfig } from './config/env.js';
import { loadServerDefinitions } from './config/servers-config.js';
import { engineCandidates, type EngineKind } from './container/engine-candidates.js';
import { locateEngine, type LocatedEngine } from './container/engine-locator.js';
import {
  checkHostMounts,
  hostFolderMounts,
  protectedHostPlaces,
  type CheckedHostMount,
} from './container/host-mount-check.js';
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
import type { ProxiedCallAudit } from './proxy/call-audit.js';
import { ApprovalDesk } from './proxy/approvals.js';
import { prepareCallServers } from './proxy/call-servers.js';
import { elicitationAsker } from './server/elicitation-asker.js';
import { ServerCatalog } from './proxy/server-catalog.js';
import { ArtifactStore } from './state/artifact-store.js';
import { capabilitySummary } from './server/mounts-summary.js';
import { createMcpServer } from './server/mcp-server.js';
import { rehearseCall } from './server/call-rehearsal.js';
import { warmServerPaths } from './server/warm-paths.js';
import { loadSandboxSources, type GeneratedModules } from './session/boot-modules.js';
import type { SandboxBlueprint } from './session/sandbox-blueprint.js';
import { SandboxSession } from './session/sandbox-session.js';
import { SessionPool } from './session/session-pool.js';
import { CallAuditStore } from './state/call-audit-store.js';
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
import { enableRpcTiming } from './util/rpc-timing.js';
import { DEFAULT_SESSION } from './util/default-session.js';

/** The composition root: the only module that knows every part of the bridge. */
export class BridgeApp {
  /** The `default` session (pre-warm, executor toolset). */
  readonly session: SandboxSession;
  /** Every named session (run_python's `session`). */
  readonly sessions: SessionPool;
  readonly server: Server;
  readonly #upstream: UpstreamRegistry;
  readonly #history: HistoryStore;
  readonly #audit: CallAuditStore;
  readonly #timing: Logger | undefined;
  readonly #config: BridgeConfig;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(config: BridgeConfig, logger: Logger, version: string) {
    this.#config = config;
    this.#logger = logger;
    this.#timing = config.timing ? logger.child({ component: 'timing' }) : undefined;
    // Host folders (MCP_BRIDGE_MOUNTS) are checked before anything starts: a refused one
    // stops startup with the variable named.
    const mounts = checkedHostMounts(config);
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
    // The audit trail of proxied calls shares the history's file (src/state/call-audit-store.ts).
    this.#audit = new CallAuditStore(this.#history, {
      maxEntries: config.audit.maxEntries,
      logger: logger.child({ component: 'audit' }),
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
    const connectEngine = async () => {
      const located = await engine();
      await packages.prepareStore(located);
      return located;
    };
    // One sandbox per named session, each labelled with its name (src/session/session-pool.ts).
    this.sessions = new SessionPool({
      maxSessions: config.maxSessions,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      logger: logger.child({ component: 'sessions' }),
      create: (name) =>
        new SandboxSession({
          config,
          logger,
          name,
          sources: () => loadSandboxSources(sandboxData(catalog, mounts)),
          // Saved tools load as the first cell of every new sandbox (docs/protocol.md).
          startup: () => planSavedToolLoad(savedTools, logger.child({ component: 'saved-tools' })),
          connectEngine,
          blueprint: (located) => sandboxBlueprint(config, located.kind, located.dockerHost, name),
        }),
    });
    this.session = this.sessions.get(DEFAULT_SESSION);
    // Owner of this process's history records: the sandbox reads only these.
    const sessionId = randomUUID();
    const history = this.#history;
    // Files the calls return (/workspace/out): kept on the host, read back as resources.
    const artifacts = new ArtifactStore({
      stateDir: config.stateDir,
      session: sessionId,
      quotaBytes: config.display.artifactsQuotaBytes,
      copyDir: config.display.artifactsDir,
      logger: logger.child({ component: 'artifacts' }),
    });
    const auditStore = this.#audit;
    const audit: ProxiedCallAudit = {
      storeArguments: config.audit.storeArguments,
      bridge: sessionId,
      record: (entry) => auditStore.record(entry),
      ownRecent: (limit, session) => auditStore.recent(limit, { bridge: sessionId, session }),
    };
    const sessions = this.sessions;
    // Approvals ask the person through this bridge's own MCP server (elicitation); the
    // server is made below, and only asked once a call runs.
    const approvals = new ApprovalDesk({
      mode: config.approvals.mode,
      timeoutMs: config.approvals.timeoutMs,
      asker: elicitationAsker(() => this.server, config.approvals.timeoutMs),
    });
    this.server = createMcpServer({
      config,
      session: this.session,
      sessions,
      sessionId,
      artifacts,
      history: this.#history,
      packages,
      servers: {
        names: () => catalog.names(),
        prepare: (names, session) =>
          prepareCallServers(names, {
            session,
            reset: () => sessions.requestReset(session),
            catalog,
            caller: this.#upstream,
            savedTools,
            packages,
            // The sandbox reads its own session's executions of this bridge only.
            history: {
              ownRecent: (limit) =>
                history.recent(limit, { session: sessionId, sessionName: session }),
            },
            audit,
            approvals,
          }),
      },
      logger,
      version,
      capabilitySummary: capabilitySummary(mounts),
    });
  }

  async start(transport: Transport): Promise<void> {
    // The sandbox starts once the client has initialized, not at its first call: clients
    // send that call seconds later, by when the sandbox is ready (docs/architecture.md).
    this.server.oninitialized = () => {
      const ready = this.session.prewarm();
      // While the engine works: compile the host side of a call (src/server/warm-paths.ts).
      setImmediate(() => warmServerPaths(this.#config));
      // Then one synthetic call through the whole path, leaving no trace (call-rehearsal.ts).
      void ready.then((up) => (up ? rehearseCall(this.server, this.#logger) : undefined));
    };
    if (this.#timing) timeCalls(this.#timing); // before connect: first to see stdin
    await this.server.connect(transport);
    if (this.#timing) timeResponses(transport);
    this.session.warmUp();
  }

  /**
   * Closes the MCP channel, removes the sandbox, ends child processes; idempotent. The
   * channel closes first: the SDK then cancels the calls in flight (their client is gone),
   * so the history records them as cancelled.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.server.close();
      await Promise.all([this.sessions.close(), this.#upstream.close()]);
      this.#audit.close();
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
  // Proxied calls (src/util/rpc-timing.ts): one summary per cell that called tools.
  enableRpcTiming((summary) => logger.info(summary, 'proxied call timing'));
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
  session: string = DEFAULT_SESSION,
): SandboxBlueprint {
  const settings = {
    ...sandboxHardening(config, engine),
    labels: ownerLabels('sandbox', session),
    // Package installs (src/packages): the store, read-only at /packages. The user's
    // host folders, checked again on disk for each new sandbox (a link may have moved).
    mounts: [
      sandboxStoreMount(config.packages.volume),
      ...hostFolderMounts(checkedHostMounts(config)),
    ],
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

/**
 * MCP_BRIDGE_MOUNTS checked on disk (src/container/host-mount-check.ts); throws
 * ConfigError naming the variable for a refused folder.
 */
export function checkedHostMounts(config: BridgeConfig): CheckedHostMount[] {
  if (config.mounts.length === 0) return [];
  const home = os.homedir();
  const address = config.engineAddress?.address;
  const candidates = engineCandidates({
    runtime: 'auto',
    env: process.env,
    home,
    uid: process.getuid?.() ?? 0,
  });
  return checkHostMounts(config.mounts, {
    stateDir: config.stateDir,
    protectedPlaces: protectedHostPlaces({
      engineSocket: address?.startsWith('unix://') ? address.slice('unix://'.length) : undefined,
      candidates: candidates.map((candidate) => candidate.dockerHost.slice('unix://'.length)),
      home,
      tmpdir: os.tmpdir(),
    }),
  });
}

/** The socket lane's host folder (src/channel/socket-lane.ts), seen at LANE_MOUNT. */
function laneMount(hostDir: string): SandboxMount {
  return {
    name: 'the socket lane',
    mount: { Type: 'bind', Source: hostDir, Target: LANE_MOUNT, ReadOnly: true },
  };
}

/** Host data the in-sandbox `mcp` package reads, fresh for each new sandbox. */
export function sandboxData(
  catalog?: ServerCatalog,
  mounts: readonly CheckedHostMount[] = [],
): GeneratedModules {
  return {
    'mcp._capabilities': {
      TEXT: capabilitySummary(mounts),
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
