import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  clientConfigFiles,
  extractServerMap,
  parseClientConfigNames,
  type ServerMap,
} from './client-configs.js';
import { ConfigSyntaxError, parseJson } from './config-text.js';
import { isRecord } from '../util/is-record.js';

/**
 * The MCP servers the bridge may spawn (docs/servers.md): every `*.json` in the state dir, then
 * MCP_SERVERS_CONFIG, then the opt-in client config files. The first definition of a name
 * wins. A bad entry is logged with its file and key and skipped; a file that does not parse
 * is logged with the line and column of the error and skipped whole; the rest load.
 */

export interface ServerDefinition {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  description: string | undefined;
  /**
   * Which of its tools the sandbox's code may call freely, only after a person approved,
   * or never (docs/servers.md, "Approvals"); absent: every list empty (the defaults).
   */
  tools?: ToolPolicyConfig;
  /** The file it came from, for messages. */
  source: string;
}

export interface LoadServerOptions {
  stateDir: string;
  serversConfigPath: string | undefined;
  allowSelfServer: boolean;
  /** Opt-in well-known client config names (MCP_BRIDGE_CLIENT_CONFIGS). */
  clientConfigs: string[];
  home: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The workspace whose `.vscode/mcp.json` is read; defaults to process.cwd(). */
  cwd?: string;
}

/** A server's `tools` block: glob patterns (`*`, `?`) over its tool names. */
export interface ToolPolicyConfig {
  allow: string[];
  ask: string[];
  deny: string[];
}

const toolPatterns = z.array(z.string().min(1).max(200)).max(1000).default([]);
const toolPolicySchema = z.strictObject({
  allow: toolPatterns,
  ask: toolPatterns,
  deny: toolPatterns,
});

const entrySchema = z.object({
  command: z.string().trim().min(1, 'must be a non-empty string'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().trim().min(1, 'must be a non-empty path').optional(),
  description: z.string().optional(),
  // Security: a `tools` block that does not parse skips the whole server (with the reason
  // logged), rather than running it without the policy its owner wrote.
  tools: toolPolicySchema.optional(),
});

const fileSchema = z.object({
  mcpServers: z.record(z.string(), z.unknown()),
  description: z.string().optional(),
});

const REMOTE_TYPES = new Set(['http', 'sse', 'streamable-http', 'streamablehttp', 'ws']);
const MAX_NAME_LENGTH = 100;

/** Reads every source in order; returns the winning definitions sorted by name. */
export function loadServerDefinitions(options: LoadServerOptions): ServerDefinition[] {
  const log = options.logger.child({ component: 'servers-config' });
  const found = new Map<string, ServerDefinition>();
  const seenFiles = new Set<string>();
  const add = (file: string, map: ServerMap, fileDescription: string | undefined) => {
    for (const definition of definitionsIn(file, map, fileDescription, options, log)) {
      const winner = found.get(definition.name);
      if (winner) {
        log.info(
          { server: definition.name, file, winner: winner.source },
          `MCP server "${definition.name}" in ${file} is shadowed by the one in ${winner.source}`,
        );
      } else found.set(definition.name, definition);
    }
  };
  const bridgeFile = (file: string) => {
    if (seenFiles.has(file)) return;
    seenFiles.add(file);
    const text = readText(file, 'warn', log);
    if (text === undefined) return;
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = parseBridgeFile(text);
    } catch (error: unknown) {
      skipFile(log, `MCP server config ${file}`, file, error);
      return;
    }
    add(file, { key: 'mcpServers', servers: parsed.mcpServers }, parsed.description);
  };

  for (const file of stateDirFiles(options.stateDir, log)) bridgeFile(file);
  if (options.serversConfigPath) bridgeFile(path.resolve(options.serversConfigPath));

  const where = { ...options, cwd: options.cwd ?? process.cwd() };
  const clients = parseClientConfigNames(options.clientConfigs.join(','));
  if (clients.unknown.length > 0) {
    log.warn(
      { unknown: clients.unknown },
      `Unknown client configs ignored: ${clients.unknown.join(', ')}`,
    );
  }
  for (const client of clients.names) {
    for (const { path: file, format } of clientConfigFiles(client, where)) {
      if (seenFiles.has(file)) continue;
      seenFiles.add(file);
      const text = readText(file, 'debug', log);
      if (text === undefined) continue;
      let map: ServerMap | undefined;
      try {
        map = extractServerMap(format, text);
      } catch (error: unknown) {
        skipFile(log, `${client} config ${file}`, file, error);
        continue;
      }
      if (map) add(file, map, undefined);
      else log.debug({ file }, `No MCP servers in ${client} config ${file}`);
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A stable key for a server's launch settings: on-disk tool caches are keyed by it. */
export function serverDefinitionHash(definition: ServerDefinition): string {
  const env = Object.keys(definition.env)
    .sort()
    .map((key) => [key, definition.env[key]]);
  const canonical = JSON.stringify([
    definition.command,
    definition.args,
    env,
    definition.cwd ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Whether a name, command or argument would launch this bridge (npx, path, git, pip…). */
export function isSelfReference(value: string): boolean {
  return value
    .split(/[^\w.@-]+/)
    .map((part) =>
      part
        .replace(/(?<=.)@.*$/, '')
        .replace(/\.(git|js|mjs|cjs|cmd|exe|ps1|bat|sh|py)$/i, '')
        .toLowerCase()
        .replaceAll('_', '-'),
    )
    .includes(SELF_NAME);
}

const SELF_NAME = 'mcp-server-code-execution-mode';

function stateDirFiles(stateDir: string, log: Logger): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(stateDir, { withFileTypes: true });
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') log.debug({ stateDir }, `State dir ${stateDir} does not exist yet`);
    else log.warn({ stateDir }, `Cannot list ${stateDir}: ${errorMessage(error)}`);
    return [];
  }
  // Only files directly in the folder: the bridge keeps its own state in subfolders.
  return entries
    .filter((entry) => entry.name.toLowerCase().endsWith('.json'))
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.resolve(stateDir, name))
    .filter((file) => isFile(file));
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function readText(file: string, missing: 'debug' | 'warn', log: Logger): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error: unknown) {
    const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const why = notFound ? 'it does not exist' : errorMessage(error);
    log[notFound ? missing : 'warn']({ file }, `Cannot read MCP server config ${file}: ${why}`);
    return undefined;
  }
}

/** The bridge's own file: strict JSON in the file schema; throws saying what is wrong. */
function parseBridgeFile(text: string): z.infer<typeof fileSchema> {
  const parsed = fileSchema.safeParse(parseJson(text));
  if (!parsed.success) throw new Error(describeIssues(parsed.error, []));
  return parsed.data;
}

/** Logs a file that is skipped whole, with the line and column of a syntax error. */
function skipFile(log: Logger, what: string, file: string, error: unknown): void {
  const at = error instanceof ConfigSyntaxError ? { line: error.line, column: error.column } : {};
  log.warn({ file, ...at }, `Skipping ${what}: ${errorMessage(error)}; nothing in it was loaded`);
}

function describeIssues(error: z.ZodError, prefix: PropertyKey[]): string {
  return error.issues
    .map(
      (issue) =>
        `${[...prefix, ...issue.path].map(String).join('.') || '(file)'}: ${issue.message}`,
    )
    .join('; ');
}

function definitionsIn(
  file: string,
  map: ServerMap,
  fileDescription: string | undefined,
  options: LoadServerOptions,
  log: Logger,
): ServerDefinition[] {
  const definitions: ServerDefinition[] = [];
  for (const [name, raw] of Object.entries(map.servers)) {
    const key = `${map.key}.${name}`;
    const skip = (level: 'info' | 'warn', why: string) =>
      log[level]({ file, key, server: name }, `Skipping MCP server "${name}" in ${file}: ${why}`);
    if (name.trim() === '' || name.length > MAX_NAME_LENGTH) {
      skip('warn', `${key}: the name must be 1 to ${MAX_NAME_LENGTH} characters`);
      continue;
    }
    if (isRecord(raw) && (raw.disabled === true || raw.enabled === false)) {
      skip('info', 'it is disabled in that file');
      continue;
    }
    const type = isRecord(raw) && typeof raw.type === 'string' ? raw.type.toLowerCase() : '';
    if (isRecord(raw) && (raw.url !== undefined || REMOTE_TYPES.has(type))) {
      skip('info', 'it is a remote (HTTP/SSE) server; only stdio servers are proxied');
      continue;
    }
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      skip('warn', describeIssues(parsed.error, [map.key, name]));
      continue;
    }
    const entry = parsed.data;
    const launch = [name, entry.command, ...entry.args];
    // Security: a bridge that spawns itself would recurse, each level with the same servers.
    if (!options.allowSelfServer && launch.some(isSelfReference)) {
      skip(
        'warn',
        'it would launch this bridge itself (set MCP_BRIDGE_ALLOW_SELF_SERVER=1 to allow)',
      );
      continue;
    }
    definitions.push({
      name,
      command: entry.command,
      args: entry.args,
      env: entry.env,
      cwd: entry.cwd === undefined ? undefined : resolveCwd(entry.cwd, file, options.home, log),
      description: entry.description ?? fileDescription,
      ...(entry.tools ? { tools: entry.tools } : {}),
      source: file,
    });
  }
  return definitions;
}

function resolveCwd(cwd: string, file: string, home: string, log: Logger): string {
  const expanded = cwd === '~' ? home : /^~[/\\]/.test(cwd) ? path.join(home, cwd.slice(2)) : cwd;
  const resolved = path.resolve(path.dirname(file), expanded);
  let isDirectory = false;
  try {
    isDirectory = fs.statSync(resolved).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDirectory) {
    log.warn(
      { file, cwd: resolved },
      `cwd ${resolved} (from ${file}) is not an existing directory`,
    );
  }
  return resolved;
}
