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

type Format = 'mcpServers' | 'vscode-mcp' | 'vscode-settings' | 'codex-toml';

/** One file a client may keep MCP servers in. */
export interface ClientConfigFile {
  client: ClientConfigName;
  path: string;
  format: Format;
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
export function parseClientConfigNames(value: string): { names: ClientConfigName[]; unknown: string[] } {
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
  const file = (filePath: string, format: Format = 'mcpServers') => ({
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
      return files.filter((entry, index) => files.findIndex((f) => f.path === entry.path) === index);
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
export function extractServerMap(format: Format, text: string): ServerMap | undefined {
  if (format === 'codex-toml') return pick(parseTomlSubset(text), ['mcp_servers']);
  // Client files are edited by hand and by their apps, which accept comments (JSONC).
  const root = parseJsonc(text);
  if (format === 'mcpServers') return pick(root, ['mcpServers']);
  if (format === 'vscode-mcp') return pick(root, ['servers', 'mcpServers']);
  const mcp = isRecord(root) ? root.mcp : undefined;
  return pick(mcp, ['servers'], 'mcp.') ?? pick(root, ['mcp.servers']);
}

function pick(root: unknown, keys: string[], prefix = ''): ServerMap | undefined {
  if (!isRecord(root)) {
    if (prefix === '' || root !== undefined) throw new Error('the file is not a JSON object');
    return undefined;
  }
  for (const key of keys) {
    const servers = root[key];
    if (servers === undefined) continue;
    if (!isRecord(servers)) throw new Error(`${prefix}${key}: expected an object of servers`);
    return { key: prefix + key, servers };
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with `//` and `/* *\/` comments and trailing commas, as VS Code and Gemini write it. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else {
      if (c === '}' || c === ']') out = out.replace(/,\s*$/, '');
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
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
          if (!(last in parent)) parent[last] = value;
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
    const next: TomlValue = current[key] ?? {};
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
    do {
      this.skipBlank(false);
      const c = this.peek();
      if (c === '"' || c === "'") keys.push(this.string());
      else {
        const bare = /^[A-Za-z0-9_-]+/.exec(this.#text.slice(this.pos, this.pos + 200));
        if (!bare) throw new TomlUnsupported();
        keys.push(bare[0]);
        this.pos += bare[0].length;
      }
      this.skipBlank(false);
    } while (this.peek() === '.' && ++this.pos);
    return keys;
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
