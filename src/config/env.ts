import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { byteSize, flag, integer } from './env-values.js';
import { ConfigError } from '../errors.js';
import { parseLogLevel, type LogLevel } from '../logger.js';
import {
  executorConfig,
  executorEnvShape,
  packagesConfig,
  type ExecutorConfig,
  type PackagesConfig,
} from './executor-env.js';
import { CLIENT_CONFIG_NAMES, parseClientConfigNames } from './client-configs.js';
import { displayConfig, displayEnvShape, type DisplayConfig } from './display-env.js';
import { parseHostMounts, type HostMountSpec } from './host-mounts.js';
import { auditConfig, auditEnvShape, type AuditConfig } from './audit-env.js';
import { approvalsConfig, approvalsEnvShape, type ApprovalsConfig } from './approvals-env.js';

/**
 * OCI runtimes the sandbox may be asked to run under. Only names whose confinement the
 * bridge knows how to verify from inside (src/container/expected-facts.ts): any other
 * runtime could be anything (crun, kata, a wrapper with other flags), and its facts would
 * have to be trusted or refused blindly.
 */
export const OCI_RUNTIMES = ['runc', 'runsc'] as const;
export type OciRuntime = (typeof OCI_RUNTIMES)[number];

/**
 * Every environment variable the bridge reads, validated once at startup. Invalid values
 * stop startup with the variable named: a silently ignored limit is a security bug.
 */

/** runc refuses larger ids; 2^32 - 1 would mean "unchanged" to setresuid/setresgid. */
const MAX_CONTAINER_ID = 2 ** 31 - 1;

/** [uid, gid] of a "uid:gid" string (NaN where a part is not a number). */
function containerIds(value: string): [number, number] {
  const [uid = '', gid = ''] = value.split(':');
  return [Number(uid === '' ? NaN : uid), Number(gid === '' ? NaN : gid)];
}

const envSchema = z.object({
  MCP_BRIDGE_RUNTIME: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['auto', 'podman', 'docker']))
    .default('auto')
    .describe('Container engine to use; auto tries Docker and Podman sockets'),
  MCP_BRIDGE_IMAGE: z.string().trim().min(1).default('python:3.14-slim'),
  MCP_BRIDGE_TIMEOUT: integer(1, 86_400).default(30),
  MCP_BRIDGE_MAX_TIMEOUT: integer(1, 86_400).default(120),
  MCP_BRIDGE_MEMORY: byteSize(
    '512m',
    32 * 1024 * 1024,
    Number.MAX_SAFE_INTEGER,
    'must be a size of at least 32m, e.g. 512m or 1g',
  ),
  MCP_BRIDGE_PIDS: integer(16, 32_768).default(128),
  MCP_BRIDGE_CPUS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of CPUs, e.g. 1 or 0.5')
    .transform(Number)
    .pipe(z.number().positive().max(1024))
    .optional(),
  MCP_BRIDGE_CONTAINER_USER: z
    .string()
    .trim()
    // Numeric only: a name ("1000:root") would be resolved in the image, unchecked by us.
    .regex(/^\d+:\d+$/, 'must be numeric uid:gid, e.g. 65534:65534')
    // Security: compare numerically, "00:0" is root too; root's group is refused like root.
    .refine((value) => containerIds(value)[0] !== 0, 'must not be root (uid 0)')
    .refine((value) => containerIds(value)[1] !== 0, "must not be in root's group (gid 0)")
    .refine(
      (value) => !containerIds(value).some((id) => id > MAX_CONTAINER_ID),
      `ids must be at most ${MAX_CONTAINER_ID}`,
    )
    .default('65534:65534'),
  MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: integer(0, 7 * 86_400).default(300),
  MCP_BRIDGE_STATE_DIR: z.string().trim().min(1).optional(),
  MCP_BRIDGE_OUTPUT_MODE: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['compact', 'toon']))
    .default('compact'),
  MCP_BRIDGE_LOG_LEVEL: z
    .string()
    .default('info')
    .transform((value, ctx) => {
      const level = parseLogLevel(value);
      if (!level) {
        ctx.addIssue({ code: 'custom', message: 'must be one of DEBUG, INFO, WARNING, ERROR' });
        return z.NEVER;
      }
      return level;
    }),
  MCP_BRIDGE_LOG_FILE: z.string().trim().min(1).optional(),
  MCP_BRIDGE_ALLOW_SELF_SERVER: flag.default(false),
  MCP_BRIDGE_TIMING: flag
    .default(false)
    .describe('Logs how long each stage of every call took (the bench reads it); off: no cost'),
  MCP_SERVERS_CONFIG: z.string().trim().min(1).optional(),
  MCP_BRIDGE_CLIENT_CONFIGS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const { names, unknown } = parseClientConfigNames(value);
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown client config ${unknown.map((name) => `"${name}"`).join(', ')}; use a comma-separated list of ${CLIENT_CONFIG_NAMES.join(', ')}, or all`,
        });
        return z.NEVER;
      }
      return names;
    })
    .describe('Well-known MCP client config files to read servers from (opt-in)'),
  MCP_BRIDGE_OUTPUT_LIMIT: integer(1024, 64 * 1024 * 1024).default(1024 * 1024),
  MCP_BRIDGE_QUEUE_LIMIT: integer(1, 1000).default(16),
  MCP_BRIDGE_MAX_SESSIONS: integer(1, 64)
    .default(4)
    .describe('Named sessions (run_python `session`) with a live sandbox at once'),
  MCP_BRIDGE_INTERRUPT_GRACE: integer(1, 60).default(2),
  MCP_BRIDGE_CHANNEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['auto', 'stdio']))
    .default('auto')
    .describe('auto: frames take the socket lane when the sandbox can reach it; stdio: never'),
  MCP_BRIDGE_OCI_RUNTIME: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(OCI_RUNTIMES))
    .optional()
    .describe("runsc: run the sandbox under gVisor; runc: the engine's runc; unset: its default"),
  MCP_BRIDGE_MOUNTS: z
    .string()
    .optional()
    .describe('Host folders for the sandbox: HOST:TARGET[:ro|:rw],… (README, "Files in")'),
  DOCKER_HOST: z.string().trim().min(1).optional(),
  CONTAINER_HOST: z.string().trim().min(1).optional(),
  ...executorEnvShape,
  ...displayEnvShape,
  ...auditEnvShape,
  ...approvalsEnvShape,
});

/** An engine address the user set; when present it is the only one the bridge uses. */
export interface EngineAddress {
  variable: 'DOCKER_HOST' | 'CONTAINER_HOST';
  /** `unix:///path/to/socket` or `tcp://host:port`. */
  address: string;
}

export interface BridgeConfig {
  runtime: 'auto' | 'podman' | 'docker';
  /** DOCKER_HOST, else CONTAINER_HOST (Podman's name); unset: well-known sockets are tried. */
  engineAddress: EngineAddress | undefined;
  image: string;
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
  memoryBytes: number;
  pidsLimit: number;
  cpus: number | undefined;
  containerUser: string;
  idleTimeoutSeconds: number;
  stateDir: string;
  outputMode: 'compact' | 'toon';
  logLevel: LogLevel;
  logFile: string | undefined;
  allowSelfServer: boolean;
  serversConfigPath: string | undefined;
  /** Well-known client config files to read servers from, e.g. `claude-desktop` (opt-in). */
  clientConfigs: string[];
  outputLimitChars: number;
  queueLimit: number;
  /** MCP_BRIDGE_MAX_SESSIONS: sessions with a live (or starting, or busy) sandbox at once. */
  maxSessions: number;
  interruptGraceSeconds: number;
  /** `auto`: offer the sandbox the socket lane (src/channel/socket-lane.ts); `stdio`: never. */
  channel: 'auto' | 'stdio';
  /**
   * The OCI runtime to ask the engine for (HostConfig.Runtime); undefined: the engine's
   * default. `runsc` runs the sandbox under gVisor, verified from inside.
   */
  ociRuntime: OciRuntime | undefined;
  /**
   * MCP_BRIDGE_MOUNTS as written (spelling checked); the host folders are checked on disk
   * when the bridge starts (src/container/host-mount-check.ts).
   */
  mounts: HostMountSpec[];
  /** The audit trail of proxied calls (src/state/call-audit-store.ts). */
  audit: AuditConfig;
  /** Approvals for proxied calls (src/proxy/approvals.ts). */
  approvals: ApprovalsConfig;
  executor: ExecutorConfig;
  packages: PackagesConfig;
  /** Images per call, their size, structuredContent (src/config/display-env.ts). */
  display: DisplayConfig;
  /** MCP_BRIDGE_TIMING: log each call's stage times, the runner's included (bench). */
  timing: boolean;
}

/** Reads the bridge's settings from `env`; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): BridgeConfig {
  // Empty strings are how MCP clients' config files usually "unset" a variable.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.MCP_BRIDGE_TIMEOUT > e.MCP_BRIDGE_MAX_TIMEOUT) {
    throw new ConfigError(
      `Invalid environment: MCP_BRIDGE_TIMEOUT (${e.MCP_BRIDGE_TIMEOUT}) exceeds MCP_BRIDGE_MAX_TIMEOUT (${e.MCP_BRIDGE_MAX_TIMEOUT})`,
    );
  }
  return {
    runtime: e.MCP_BRIDGE_RUNTIME,
    engineAddress: e.DOCKER_HOST
      ? { variable: 'DOCKER_HOST', address: e.DOCKER_HOST }
      : e.CONTAINER_HOST
        ? { variable: 'CONTAINER_HOST', address: e.CONTAINER_HOST }
        : undefined,
    image: e.MCP_BRIDGE_IMAGE,
    defaultTimeoutSeconds: e.MCP_BRIDGE_TIMEOUT,
    maxTimeoutSeconds: e.MCP_BRIDGE_MAX_TIMEOUT,
    memoryBytes: e.MCP_BRIDGE_MEMORY,
    pidsLimit: e.MCP_BRIDGE_PIDS,
    cpus: e.MCP_BRIDGE_CPUS,
    containerUser: e.MCP_BRIDGE_CONTAINER_USER,
    idleTimeoutSeconds: e.MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT,
    stateDir: expandHome(e.MCP_BRIDGE_STATE_DIR ?? '~/MCPs'),
    outputMode: e.MCP_BRIDGE_OUTPUT_MODE,
    logLevel: e.MCP_BRIDGE_LOG_LEVEL,
    logFile: e.MCP_BRIDGE_LOG_FILE,
    allowSelfServer: e.MCP_BRIDGE_ALLOW_SELF_SERVER,
    serversConfigPath: e.MCP_SERVERS_CONFIG ? expandHome(e.MCP_SERVERS_CONFIG) : undefined,
    clientConfigs: e.MCP_BRIDGE_CLIENT_CONFIGS,
    outputLimitChars: e.MCP_BRIDGE_OUTPUT_LIMIT,
    queueLimit: e.MCP_BRIDGE_QUEUE_LIMIT,
    maxSessions: e.MCP_BRIDGE_MAX_SESSIONS,
    interruptGraceSeconds: e.MCP_BRIDGE_INTERRUPT_GRACE,
    channel: e.MCP_BRIDGE_CHANNEL,
    ociRuntime: e.MCP_BRIDGE_OCI_RUNTIME,
    mounts: e.MCP_BRIDGE_MOUNTS ? parseHostMounts(e.MCP_BRIDGE_MOUNTS) : [],
    audit: auditConfig(e),
    approvals: approvalsConfig(e),
    executor: executorConfig(e),
    packages: packagesConfig(e),
    display: displayConfig(e),
    timing: e.MCP_BRIDGE_TIMING,
  };
}

function expandHome(value: string): string {
  if (value === '~') return os.homedir();
  if (value.startsWith('~/')) return path.join(os.homedir(), value.slice(2));
  return path.resolve(value);
}
