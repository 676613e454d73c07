import { z } from 'zod';
import { flag, integer } from './env-values.js';

/**
 * Settings of the Python-executor features (README, Configuration): the executor toolset,
 * history, the safety check and package installs. Parsed with the rest of the environment.
 */

/** A file host entry: `host`, `host:port` or an http(s) URL (see relay-policy.ts). */
function isFileHost(entry: string): boolean {
  try {
    const url = new URL(entry.includes('://') ? entry : `https://${entry}`);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.hostname !== '' &&
      url.username === '' &&
      url.password === '' &&
      url.pathname === '/'
    );
  } catch {
    return false;
  }
}

const nameList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

export const executorEnvShape = {
  MCP_BRIDGE_TOOLS: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['run_python', 'executor', 'all']))
    .default('run_python')
    .describe('Which MCP tools to list: run_python alone, the executor toolset, or both'),
  PYTHON_EXECUTOR_TIMEOUT: integer(1, 86_400).default(30),
  PYTHON_EXECUTOR_MAX_HISTORY: integer(1, 1_000_000).default(1000),
  PYTHON_EXECUTOR_ALLOW_UNSAFE: flag.default(false),
  MCP_BRIDGE_PACKAGES: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['off', 'allowlist', 'on']))
    .default('allowlist'),
  MCP_BRIDGE_PACKAGES_ALLOW: nameList.default([]),
  MCP_BRIDGE_PACKAGES_DENY: nameList.default([]),
  MCP_BRIDGE_PACKAGES_INDEX_URL: z.string().trim().url().optional(),
  PIP_INDEX_URL: z.string().trim().url().optional(),
  MCP_BRIDGE_PACKAGES_FIND_LINKS: z.string().trim().min(1).optional(),
  // How the installer reaches the index (src/packages/relay/): through the bridge's relay
  // with no network of its own, or on the engine's default network.
  MCP_BRIDGE_PACKAGES_NETWORK: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['relay', 'engine']))
    .default('relay'),
  MCP_BRIDGE_PACKAGES_FILE_HOSTS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().refine(isFileHost, 'must be host, host:port or an http(s) URL')))
    .optional(),
  MCP_BRIDGE_PACKAGES_ALLOW_SDIST: flag.default(false),
  MCP_BRIDGE_PACKAGES_AUTO: flag.default(true),
  MCP_BRIDGE_PACKAGES_TIMEOUT: integer(5, 3600).default(180),
  MCP_BRIDGE_PACKAGES_MAX_MB: integer(1, 100_000).default(1024),
  // Package store (src/packages/package-store.ts): the named engine volume installs go to.
  MCP_BRIDGE_PACKAGES_VOLUME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be a volume name: letters, digits, _ . -')
    .default('mcp-bridge-packages'),
};

type ExecutorEnv = z.infer<z.ZodObject<typeof executorEnvShape>>;

export interface ExecutorConfig {
  tools: 'run_python' | 'executor' | 'all';
  timeoutSeconds: number;
  maxHistory: number;
  allowUnsafe: boolean;
}

export interface PackagesConfig {
  /** off: never; allowlist: only listed names; on: any name not denied. */
  policy: 'off' | 'allowlist' | 'on';
  allow: string[];
  deny: string[];
  /** From MCP_BRIDGE_PACKAGES_INDEX_URL, else PIP_INDEX_URL; pip's default otherwise. */
  indexUrl: string | undefined;
  /** A host folder of wheels to install from with no index at all (air-gapped use). */
  findLinks: string | undefined;
  /** relay: the installer has no network, pip goes through the bridge; engine: its default network. */
  network: 'relay' | 'engine';
  /** Hosts the index serves files from (MCP_BRIDGE_PACKAGES_FILE_HOSTS); unset: the known default. */
  fileHosts: string[] | undefined;
  allowSdist: boolean;
  autoInstall: boolean;
  timeoutSeconds: number;
  maxBytes: number;
  /** The named engine volume holding installed packages (MCP_BRIDGE_PACKAGES_VOLUME). */
  volume: string;
}

export function executorConfig(e: ExecutorEnv): ExecutorConfig {
  return {
    tools: e.MCP_BRIDGE_TOOLS,
    timeoutSeconds: e.PYTHON_EXECUTOR_TIMEOUT,
    maxHistory: e.PYTHON_EXECUTOR_MAX_HISTORY,
    allowUnsafe: e.PYTHON_EXECUTOR_ALLOW_UNSAFE,
  };
}

export function packagesConfig(e: ExecutorEnv): PackagesConfig {
  return {
    policy: e.MCP_BRIDGE_PACKAGES,
    allow: e.MCP_BRIDGE_PACKAGES_ALLOW,
    deny: e.MCP_BRIDGE_PACKAGES_DENY,
    indexUrl: e.MCP_BRIDGE_PACKAGES_INDEX_URL ?? e.PIP_INDEX_URL,
    findLinks: e.MCP_BRIDGE_PACKAGES_FIND_LINKS,
    network: e.MCP_BRIDGE_PACKAGES_NETWORK,
    fileHosts: e.MCP_BRIDGE_PACKAGES_FILE_HOSTS,
    allowSdist: e.MCP_BRIDGE_PACKAGES_ALLOW_SDIST,
    autoInstall: e.MCP_BRIDGE_PACKAGES_AUTO,
    timeoutSeconds: e.MCP_BRIDGE_PACKAGES_TIMEOUT,
    maxBytes: e.MCP_BRIDGE_PACKAGES_MAX_MB * 1024 * 1024,
    volume: e.MCP_BRIDGE_PACKAGES_VOLUME,
  };
}
