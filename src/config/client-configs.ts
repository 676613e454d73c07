import path from 'node:path';

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
 * Throws when the text cannot be parsed or the map is not an object.
 */
export function extractServerMap(format: ClientConfigFormat, text: string): ServerMap | undefined {
  // Client files are edited by hand and by their apps, which accept comments (JSONC).
  const root = format === 'codex-toml' ? parseTomlSubset(text) : parseJsonc(text);
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with `//` and `/* *\/` comments and trailing commas, as VS Code and Gemini write it. */
export function parseJsonc(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // Not plain JSON: strip comments and trailing commas below, then parse again.
  }
  let out = '';
  let i = 0;
  while (i < body.length) {
    const c = body[i] ?? '';
    if (c === '"') {
      let end = i + 1;
      while (end < body.length && body[end] !== '"') end += body[end] === '\\' ? 2 : 1;
      out += body.slice(i, end + 1);
      i = end + 1;
    } else if (c === '/' && body[i + 1] === '/') {
      while (i < body.length && body[i] !== '\n') i++;
    } else if (c === '/' && body[i + 1] === '*') {
      const end = body.indexOf('*/', i + 2);
      i = end < 0 ? body.length : end + 2;
      out += ' ';
    } else {
      if (c === '}' || c === ']') out = withoutTrailingComma(out);
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

function withoutTrailingComma(text: string): string {
  let end = text.length - 1;
  while (end >= 0 && /\s/.test(text[end] ?? '')) end--;
  return text[end] === ',' ? text.slice(0, end) + text.slice(end + 1) : text;
}

export type TomlValue = string | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/**
 * The TOML subset Codex uses for `[mcp_servers.<name>]`: tables, dotted and quoted keys,
 * strings, booleans, arrays and inline tables of those. Any other line is skipped.
 */
export function parseTomlSubset(text: string): TomlTable {
  const root: TomlTable = {};
  const reader = new TomlReader(text);
  let table: TomlTable | undefined = root;
  while (reader.skipBlank()) {
    const start = reader.pos;
    const header = reader.peek() === '[';
    try {
      if (header) {
        // `[[array.of.tables]]` is outside the subset: its keys are skipped with it.
        table = undefined;
        if (reader.peek(1) === '[') throw new TomlUnsupported();
        reader.expect('[');
        const keys = reader.keyPath();
        reader.expect(']');
        reader.endOfLine();
        table = descend(root, keys);
      } else {
        const keys = reader.keyPath();
        reader.expect('=');
        const value = reader.value();
        reader.endOfLine();
        const last = keys.pop() ?? '';
        if (table) {
          const parent = descend(table, keys);
          if (!Object.hasOwn(parent, last)) parent[last] = value;
        }
      }
    } catch (error: unknown) {
      if (!(error instanceof TomlUnsupported)) throw error;
      reader.pos = start;
      reader.skipLine();
    }
  }
  return root;
}

class TomlUnsupported extends Error {}

function descend(table: TomlTable, keys: string[]): TomlTable {
  let current = table;
  for (const key of keys) {
    const next: TomlValue | undefined = Object.hasOwn(current, key) ? current[key] : {};
    if (!isRecord(next)) throw new TomlUnsupported();
    current[key] = next;
    current = next;
  }
  return current;
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r' };

class TomlReader {
  pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  peek(offset = 0): string {
    return this.#text[this.pos + offset] ?? '';
  }

  /** Skips spaces, newlines and comments; false at the end of the text. */
  skipBlank(newlines = true): boolean {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) this.pos++;
      else if (c === '#') while (this.pos < this.#text.length && this.peek() !== '\n') this.pos++;
      else return this.pos < this.#text.length;
    }
  }

  skipLine(): void {
    while (this.pos < this.#text.length && this.peek() !== '\n') this.pos++;
  }

  expect(token: string): void {
    this.skipBlank(false);
    if (this.peek() !== token) throw new TomlUnsupported();
    this.pos++;
  }

  endOfLine(): void {
    this.skipBlank(false);
    if (!['\n', '\r', ''].includes(this.peek())) throw new TomlUnsupported();
  }

  keyPath(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const c = this.peek();
      let key: string;
      if (c === '"' || c === "'") key = this.string();
      else {
        key = /^[A-Za-z0-9_-]*/.exec(this.#text.slice(this.pos, this.pos + 256))?.[0] ?? '';
        this.pos += key.length;
      }
      // Security: `__proto__` would reach Object.prototype through a plain object.
      if (key === '' || key === '__proto__') throw new TomlUnsupported();
      keys.push(key);
      this.skipBlank(false);
      if (this.peek() !== '.') return keys;
      this.pos++;
    }
  }

  value(): TomlValue {
    this.skipBlank(false);
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '[') return this.list();
    if (c === '{') return this.inlineTable();
    for (const literal of ['true', 'false']) {
      if (this.#text.startsWith(literal, this.pos) && !/[\w-]/.test(this.peek(literal.length))) {
        this.pos += literal.length;
        return literal === 'true';
      }
    }
    throw new TomlUnsupported();
  }

  string(): string {
    const quote = this.peek();
    const multiline = this.#text.startsWith(quote.repeat(3), this.pos);
    const delimiter = multiline ? quote.repeat(3) : quote;
    this.pos += delimiter.length;
    if (multiline && this.peek() === '\n') this.pos++;
    let out = '';
    while (!this.#text.startsWith(delimiter, this.pos)) {
      const c = this.peek();
      if (c === '' || (c === '\n' && !multiline)) throw new TomlUnsupported();
      this.pos++;
      if (c !== '\\' || quote === "'") {
        out += c;
        continue;
      }
      const escape = this.peek();
      const hex = escape === 'u' ? 4 : escape === 'U' ? 8 : 0;
      if (hex > 0) {
        const code = Number.parseInt(this.#text.slice(this.pos + 1, this.pos + 1 + hex), 16);
        if (!Number.isInteger(code) || code > 0x10ffff) throw new TomlUnsupported();
        out += String.fromCodePoint(code);
        this.pos += hex + 1;
      } else if (escape === '"' || escape === '\\' || escape in ESCAPES) {
        out += ESCAPES[escape] ?? escape;
        this.pos++;
      } else throw new TomlUnsupported();
    }
    this.pos += delimiter.length;
    return out;
  }

  list(): TomlValue[] {
    this.pos++;
    const items: TomlValue[] = [];
    while (this.skipBlank() && this.peek() !== ']') {
      items.push(this.value());
      this.skipBlank();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') throw new TomlUnsupported();
    }
    this.expect(']');
    return items;
  }

  inlineTable(): TomlTable {
    this.pos++;
    const table: TomlTable = {};
    while (this.skipBlank(false) && this.peek() !== '}') {
      const keys = this.keyPath();
      this.expect('=');
      const value = this.value();
      const last = keys.pop() ?? '';
      descend(table, keys)[last] = value;
      this.skipBlank(false);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') throw new TomlUnsupported();
    }
    this.expect('}');
    return table;
  }
}
