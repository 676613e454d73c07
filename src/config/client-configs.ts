import path from 'node:path';
import { parseJsonc, parseToml } from './config-text.js';
import { isRecord } from '../util/is-record.js';

/**
 * The MCP client config files other tools keep (Claude Desktop, Cursor, VS Code…), read
 * only when the user opts in with MCP_BRIDGE_CLIENT_CONFIGS. Each format is reduced to the
 * common `{name: {command, args, env, cwd}}` map; servers-config.ts validates the entries.
 */

export const CLIENT_CONFIG_NAMES = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'windsurf',
  'gemini',
  'codex',
] as const;
export type ClientConfigName = (typeof CLIENT_CONFIG_NAMES)[number];

export type ClientConfigFormat = 'mcpServers' | 'vscode-mcp' | 'vscode-settings' | 'codex-toml';

/** One file a client may keep MCP servers in. */
export interface ClientConfigFile {
  client: ClientConfigName;
  path: string;
  format: ClientConfigFormat;
}

/** The servers found in one file, before validation. */
export interface ServerMap {
  /** Where the map sits in the file (`mcpServers`, `servers`, `mcp_servers`), for messages. */
  key: string;
  servers: Record<string, unknown>;
}

export interface ClientConfigLocation {
  home: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function isClientConfigName(name: string): name is ClientConfigName {
  return (CLIENT_CONFIG_NAMES as readonly string[]).includes(name);
}

/** Parses MCP_BRIDGE_CLIENT_CONFIGS: comma-separated names or `all`; returns the unknown ones too. */
export function parseClientConfigNames(value: string): {
  names: ClientConfigName[];
  unknown: string[];
} {
  const requested = value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  if (requested.includes('all')) return { names: [...CLIENT_CONFIG_NAMES], unknown: [] };
  const names = [...new Set(requested.filter(isClientConfigName))];
  return { names, unknown: requested.filter((part) => !isClientConfigName(part)) };
}

/** Where `client` keeps its servers on this platform, most specific first. */
export function clientConfigFiles(
  client: ClientConfigName,
  where: ClientConfigLocation,
): ClientConfigFile[] {
  const p = where.platform === 'win32' ? path.win32 : path.posix;
  const home = (...parts: string[]) => p.join(where.home, ...parts);
  // The per-user application data folder: Claude Desktop and VS Code keep their files there.
  const appData =
    where.platform === 'darwin'
      ? home('Library', 'Application Support')
      : where.platform === 'win32'
        ? (where.env.APPDATA ?? home('AppData', 'Roaming'))
        : (where.env.XDG_CONFIG_HOME ?? home('.config'));
  const file = (filePath: string, format: ClientConfigFormat = 'mcpServers') => ({
    client,
    path: filePath,
    format,
  });
  switch (client) {
    case 'claude-desktop':
      return [file(p.join(appData, 'Claude', 'claude_desktop_config.json'))];
    case 'claude-code':
      // Only the top-level `mcpServers`: per-project entries belong to those projects.
      return [file(home('.claude.json'))];
    case 'cursor':
      return [file(home('.cursor', 'mcp.json'))];
    case 'vscode': {
      const files = [
        file(p.join(where.cwd, '.vscode', 'mcp.json'), 'vscode-mcp'),
        file(home('.vscode', 'mcp.json'), 'vscode-mcp'),
        file(p.join(appData, 'Code', 'User', 'mcp.json'), 'vscode-mcp'),
        file(p.join(appData, 'Code', 'User', 'settings.json'), 'vscode-settings'),
      ];
      return files.filter(
        (entry, index) => files.findIndex((f) => f.path === entry.path) === index,
      );
    }
    case 'windsurf':
      return [file(home('.codeium', 'windsurf', 'mcp_config.json'))];
    case 'gemini':
      return [file(home('.gemini', 'settings.json'))];
    case 'codex':
      return [file(p.join(where.env.CODEX_HOME ?? home('.codex'), 'config.toml'), 'codex-toml')];
  }
}

/**
 * The server map inside a client file's text, or undefined when the file holds none.
 * Throws when the text cannot be parsed (ConfigSyntaxError, with the position) or the map
 * is not an object.
 */
export function extractServerMap(format: ClientConfigFormat, text: string): ServerMap | undefined {
  // Client files are edited by hand and by their apps, which accept comments (JSONC).
  const root = format === 'codex-toml' ? parseToml(text) : parseJsonc(text);
  if (!isRecord(root)) throw new Error('expected an object at the top level');
  switch (format) {
    case 'codex-toml':
      return pick(root, 'mcp_servers');
    case 'mcpServers':
      return pick(root, 'mcpServers');
    case 'vscode-mcp':
      return pick(root, 'servers') ?? pick(root, 'mcpServers');
    case 'vscode-settings':
      return (
        (isRecord(root.mcp) ? pick(root.mcp, 'servers', 'mcp.') : undefined) ??
        pick(root, 'mcp.servers')
      );
  }
}

function pick(root: Record<string, unknown>, key: string, prefix = ''): ServerMap | undefined {
  const servers = root[key];
  if (servers === undefined) return undefined;
  if (!isRecord(servers)) throw new Error(`${prefix}${key}: expected an object of servers`);
  return { key: prefix + key, servers };
}
