import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CLIENT_CONFIG_NAMES,
  clientConfigFiles,
  extractServerMap,
  parseClientConfigNames,
} from '../../../src/config/client-configs.js';
import {
  ConfigSyntaxError,
  parseJson,
  parseJsonc,
  parseToml,
} from '../../../src/config/config-text.js';
import { loadConfig } from '../../../src/config/env.js';
import {
  loadServerDefinitions,
  type ServerDefinition,
} from '../../../src/config/servers-config.js';
import { ConfigError } from '../../../src/errors.js';

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  line?: number;
  column?: number;
}

let root: string;
let home: string;
let workspace: string;
let logs: LogLine[];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'client-configs-'));
  home = path.join(root, 'home');
  workspace = path.join(root, 'workspace');
  fs.mkdirSync(home);
  fs.mkdirSync(workspace);
  logs = [];
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function write(file: string, content: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function load(
  clientConfigs: string[],
  options: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; stateServers?: object } = {},
): ServerDefinition[] {
  const stateDir = path.join(root, 'MCPs');
  if (options.stateServers) write(path.join(stateDir, 'mine.json'), options.stateServers);
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  return loadServerDefinitions({
    stateDir,
    serversConfigPath: undefined,
    allowSelfServer: false,
    clientConfigs,
    home,
    platform: options.platform ?? 'linux',
    env: options.env ?? {},
    logger,
    cwd: workspace,
  });
}

const summary = (definitions: ServerDefinition[]) =>
  definitions.map((d) => ({
    name: d.name,
    command: d.command,
    args: d.args,
    env: d.env,
    source: d.source,
  }));
const warnings = () => logs.filter((line) => line.level === 40);

const stdio = { command: 'npx', args: ['-y', 'server'], env: { TOKEN: 't' } };

describe('client config files, each format', () => {
  it.each([
    ['claude-desktop', ['.config', 'Claude', 'claude_desktop_config.json']],
    ['cursor', ['.cursor', 'mcp.json']],
    ['windsurf', ['.codeium', 'windsurf', 'mcp_config.json']],
    ['gemini', ['.gemini', 'settings.json']],
  ])('%s: mcpServers in %s', (client, parts) => {
    const file = write(path.join(home, ...parts), { theme: 'dark', mcpServers: { one: stdio } });
    expect(summary(load([client]))).toEqual([{ name: 'one', ...stdio, source: file }]);
  });

  it('claude-code: only the top-level mcpServers of ~/.claude.json, not per-project ones', () => {
    const file = write(path.join(home, '.claude.json'), {
      mcpServers: { global: stdio },
      projects: { '/some/project': { mcpServers: { local: { command: 'x' } } } },
    });
    expect(summary(load(['claude-code']))).toEqual([{ name: 'global', ...stdio, source: file }]);
  });

  it('vscode: workspace .vscode/mcp.json (servers), ~/.vscode/mcp.json, user mcp.json and settings', () => {
    write(
      path.join(workspace, '.vscode', 'mcp.json'),
      `{
        // VS Code writes JSONC
        "inputs": [],
        "servers": { "ws": { "type": "stdio", "command": "a", "args": ["x",], }, },
      }`,
    );
    write(path.join(home, '.vscode', 'mcp.json'), { mcpServers: { dotvscode: { command: 'b' } } });
    write(path.join(home, '.config', 'Code', 'User', 'mcp.json'), {
      servers: { user: { command: 'c' } },
    });
    write(path.join(home, '.config', 'Code', 'User', 'settings.json'), {
      'editor.fontSize': 12,
      mcp: { servers: { settings: { command: 'd' }, ws: { command: 'shadowed' } } },
    });
    const definitions = load(['vscode']);
    expect(definitions.map((d) => [d.name, d.command, d.args])).toEqual([
      ['dotvscode', 'b', []],
      ['settings', 'd', []],
      ['user', 'c', []],
      ['ws', 'a', ['x']],
    ]);
    expect(warnings()).toEqual([]);
  });

  it('vscode: the flat "mcp.servers" settings key', () => {
    write(path.join(home, '.config', 'Code', 'User', 'settings.json'), {
      'mcp.servers': { flat: { command: 'd' } },
    });
    expect(load(['vscode']).map((d) => d.name)).toEqual(['flat']);
  });

  it('codex: [mcp_servers.<name>] tables in ~/.codex/config.toml', () => {
    const file = write(
      path.join(home, '.codex', 'config.toml'),
      `model = "o4-mini"   # a comment
approval_policy = 'never'
startup_timeout_ms = 20_000

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]
env = { GITHUB_TOKEN = "ghp_x", "QUOTED KEY" = 'lit\\eral' }

[mcp_servers."my.server"]
command = "uvx"
args = [
  "my-server",  # why
  "--flag",
]
tool_timeout_sec = 30

[mcp_servers.my-server.env]
HOME_DIR = "C:\\\\Users\\\\me"
UNICODE = "caf\\u00e9"

[mcp_servers.my-server]
command = "node"

[mcp_servers.remote]
url = "https://example.com/mcp"

[mcp_servers.off]
command = "x"
enabled = false

[profiles.fast]
model = "gpt"
`,
    );
    expect(summary(load(['codex']))).toEqual([
      {
        name: 'github',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github'],
        env: { GITHUB_TOKEN: 'ghp_x', 'QUOTED KEY': 'lit\\eral' },
        source: file,
      },
      {
        name: 'my-server',
        command: 'node',
        args: [],
        env: { HOME_DIR: 'C:\\Users\\me', UNICODE: 'café' },
        source: file,
      },
      { name: 'my.server', command: 'uvx', args: ['my-server', '--flag'], env: {}, source: file },
    ]);
    expect(warnings()).toEqual([]);
  });

  it('codex: CODEX_HOME moves the config', () => {
    write(path.join(root, 'codex-home', 'config.toml'), '[mcp_servers.a]\ncommand = "x"\n');
    expect(
      load(['codex'], { env: { CODEX_HOME: path.join(root, 'codex-home') } }).map((d) => d.name),
    ).toEqual(['a']);
  });

  it('reads the clients in the order given, after the state dir, first definition winning', () => {
    write(path.join(home, '.cursor', 'mcp.json'), {
      mcpServers: { shared: { command: 'cursor' }, c: { command: 'c' } },
    });
    write(path.join(home, '.gemini', 'settings.json'), {
      mcpServers: { shared: { command: 'gemini' } },
    });
    const definitions = load(['gemini', 'cursor'], {
      stateServers: { mcpServers: { mine: { command: 'mine' } } },
    });
    expect(definitions.map((d) => [d.name, d.command])).toEqual([
      ['c', 'c'],
      ['mine', 'mine'],
      ['shared', 'gemini'],
    ]);
  });

  it('reads nothing from client files unless they are opted in', () => {
    write(path.join(home, '.cursor', 'mcp.json'), { mcpServers: { c: { command: 'c' } } });
    expect(load([])).toEqual([]);
    expect(load(['all']).map((d) => d.name)).toEqual(['c']);
    expect(load(['zed', 'cursor']).map((d) => d.name)).toEqual(['c']);
    expect(warnings()[0]?.msg).toContain('zed');
  });

  it('treats missing client files as normal and a broken one as a warning naming it', () => {
    const broken = write(path.join(home, '.cursor', 'mcp.json'), '{"mcpServers": ');
    write(path.join(home, '.gemini', 'settings.json'), { theme: 'x' });
    expect(load([...CLIENT_CONFIG_NAMES])).toEqual([]);
    expect(warnings().map((line) => line.file)).toEqual([broken]);
  });

  it('skips a client entry with a bad field, naming the file and the client-specific key', () => {
    const file = write(path.join(workspace, '.vscode', 'mcp.json'), {
      servers: { bad: { command: 'x', args: 'no' }, ok: { command: 'y' } },
    });
    expect(load(['vscode']).map((d) => d.name)).toEqual(['ok']);
    expect(warnings()[0]?.msg).toContain(file);
    expect(warnings()[0]?.msg).toContain('servers.bad.args:');
  });
});

describe('clientConfigFiles: per-platform locations', () => {
  const where = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv = {}) => ({
    home: platform === 'win32' ? 'C:\\Users\\me' : '/home/me',
    platform,
    env,
    cwd: platform === 'win32' ? 'C:\\ws' : '/ws',
  });

  it('Claude Desktop on macOS, Windows and Linux', () => {
    expect(clientConfigFiles('claude-desktop', where('darwin'))[0]?.path).toBe(
      '/home/me/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(
      clientConfigFiles('claude-desktop', where('win32', { APPDATA: 'D:\\Roaming' }))[0]?.path,
    ).toBe('D:\\Roaming\\Claude\\claude_desktop_config.json');
    expect(clientConfigFiles('claude-desktop', where('win32'))[0]?.path).toBe(
      'C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
    expect(clientConfigFiles('claude-desktop', where('linux'))[0]?.path).toBe(
      '/home/me/.config/Claude/claude_desktop_config.json',
    );
    expect(
      clientConfigFiles('claude-desktop', where('linux', { XDG_CONFIG_HOME: '/xdg' }))[0]?.path,
    ).toBe('/xdg/Claude/claude_desktop_config.json');
  });

  it('VS Code: the workspace file first, then the user files', () => {
    expect(clientConfigFiles('vscode', where('darwin')).map((f) => f.path)).toEqual([
      '/ws/.vscode/mcp.json',
      '/home/me/.vscode/mcp.json',
      '/home/me/Library/Application Support/Code/User/mcp.json',
      '/home/me/Library/Application Support/Code/User/settings.json',
    ]);
  });

  it('every known client has at least one file', () => {
    for (const name of CLIENT_CONFIG_NAMES) {
      expect(clientConfigFiles(name, where('linux')).length).toBeGreaterThan(0);
    }
  });
});

describe('MCP_BRIDGE_CLIENT_CONFIGS', () => {
  it('defaults to none', () => {
    expect(loadConfig({}).clientConfigs).toEqual([]);
  });

  it('accepts comma-separated names in any case, without duplicates', () => {
    expect(
      loadConfig({ MCP_BRIDGE_CLIENT_CONFIGS: ' Cursor, codex ,,cursor' }).clientConfigs,
    ).toEqual(['cursor', 'codex']);
  });

  it('parseClientConfigNames reports unknown names', () => {
    expect(parseClientConfigNames('vscode, nope')).toEqual({
      names: ['vscode'],
      unknown: ['nope'],
    });
  });

  it('accepts all', () => {
    expect(loadConfig({ MCP_BRIDGE_CLIENT_CONFIGS: 'all' }).clientConfigs).toEqual([
      ...CLIENT_CONFIG_NAMES,
    ]);
  });

  it('refuses an unknown name with a ConfigError naming the variable, the name and the choices', () => {
    let error: unknown;
    try {
      loadConfig({ MCP_BRIDGE_CLIENT_CONFIGS: 'cursor,zed' });
    } catch (caught: unknown) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('MCP_BRIDGE_CLIENT_CONFIGS');
    expect(message).toContain('"zed"');
    expect(message).toContain('claude-desktop');
  });
});

describe('parsers', () => {
  it('parseJsonc keeps comment-like text and commas inside strings', () => {
    expect(
      parseJsonc(
        '\ufeff{ /* c */ "url": "http://x//y", "s": "a,}", "e": "q\\"//", "l": [1, 2,], }',
      ),
    ).toEqual({ url: 'http://x//y', s: 'a,}', e: 'q"//', l: [1, 2] });
    expect(() => parseJsonc('{"a": ')).toThrow();
  });

  it('extractServerMap names the key when the map is not an object', () => {
    expect(() => extractServerMap('mcpServers', '{"mcpServers": []}')).toThrow(/mcpServers/);
    expect(() => extractServerMap('codex-toml', 'mcp_servers = "x"')).toThrow(/mcp_servers/);
    expect(() => extractServerMap('mcpServers', '[]')).toThrow(/object/);
    expect(extractServerMap('mcpServers', '{}')).toBeUndefined();
  });

  it('parseToml refuses a document it cannot read whole, with the position', () => {
    const refusal = (text: string) => {
      try {
        parseToml(text);
      } catch (error: unknown) {
        if (error instanceof ConfigSyntaxError) return [error.line, error.column, error.message];
        throw error;
      }
      throw new Error('parsed');
    };
    expect(refusal('[t]\nok = true\nbad = "unterminated\nx = 1\n')).toEqual([
      3,
      20,
      expect.stringMatching(/^not valid TOML at line 3, column 20 \(3:20\): .*control characters/),
    ]);
    expect(refusal('[t]\ndup = "first"\ndup = "second"\n').slice(0, 2)).toEqual([3, 1]);
    // A key that could reach Object.prototype refuses the file; nothing is polluted.
    expect(refusal('[t.__proto__]\npolluted = "yes"\n').slice(0, 2)).toEqual([1, 2]);
    expect(refusal('__proto__ = "x"\n').slice(0, 2)).toEqual([1, 1]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('parseToml reads all of TOML: numbers, dates, arrays of tables, big integers', () => {
    const parsed = parseToml(`
n = 5
big = 123456789012345678901
date = 1979-05-27
[[array.of.tables]]
command = "here"
[t]
s = """multi
line"""
`);
    expect(parsed.n).toBe(5);
    expect(parsed.big).toBe(123456789012345678901n);
    expect(parsed.array).toEqual({ of: { tables: [{ command: 'here' }] } });
    expect(parsed.t).toEqual({ s: 'multi\nline' });
  });

  it('parseJsonc and parseJson give the line and column of the first error', () => {
    const refusal = (parse: (text: string) => unknown, text: string) => {
      try {
        parse(text);
      } catch (error: unknown) {
        if (error instanceof ConfigSyntaxError) return error.message;
        throw error;
      }
      throw new Error('parsed');
    };
    const text = '\ufeff{\n  "mcpServers": {\n    "a": { "command": "x" }\n    "b": {}\n  }\n}\n';
    expect(refusal(parseJsonc, text)).toBe(
      'not valid JSON with comments at line 4, column 5 (4:5): comma expected',
    );
    expect(refusal(parseJson, '{"a": 1,}')).toBe(
      'not valid JSON at line 1, column 9 (1:9): property name expected',
    );
    expect(refusal(parseJson, '{"a": 1} // note')).toMatch(/^not valid JSON at line 1, column 10 /);
    expect(refusal(parseJsonc, '  \n')).toMatch(
      /^not valid JSON with comments at line 2, column 1 \(2:1\): value expected$/,
    );
    expect(parseJson('{"__proto__": {"polluted": 1}}')).toEqual(
      JSON.parse('{"__proto__": {"polluted": 1}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('a config file that cannot be parsed', () => {
  it.each([
    [
      'cursor',
      ['.cursor', 'mcp.json'],
      '{\n  "mcpServers": {\n    "first": { "command": "x" },\n    "second": { "command": "y" \n  }\n}\n',
      [7, 1],
    ],
    [
      'vscode',
      ['workspace', '.vscode', 'mcp.json'],
      '{\n  // comments are fine\n  "servers": { "first": { "command": "x" }, },\n  "inputs": [1 2],\n}\n',
      [4, 16],
    ],
    [
      'codex',
      ['.codex', 'config.toml'],
      '[mcp_servers.first]\ncommand = "x"\n\n[mcp_servers.second]\ncommand = "y\nargs = []\n',
      [5, 13],
    ],
  ])(
    '%s: skipped whole, reported with the file and line:column; the others load',
    (client, parts, text, [line, column]) => {
      const [first, ...rest] = parts as [string, ...string[]];
      const base = first === 'workspace' ? workspace : path.join(home, first);
      const broken = write(path.join(base, ...rest), text);
      write(path.join(home, '.gemini', 'settings.json'), { mcpServers: { other: stdio } });
      expect(load([client, 'gemini']).map((d) => d.name)).toEqual(['other']);
      const [warning, ...more] = warnings();
      expect(more).toEqual([]);
      expect(warning?.file).toBe(broken);
      expect([warning?.line, warning?.column]).toEqual([line, column]);
      expect(warning?.msg).toContain(`${broken}: not valid `);
      expect(warning?.msg).toContain(` at line ${line}, column ${column} (${line}:${column}): `);
      expect(warning?.msg).toContain('nothing in it was loaded');
    },
  );

  it("the bridge's own file: strict JSON, the position named, the next file loads", () => {
    const stateDir = path.join(root, 'MCPs');
    const broken = write(
      path.join(stateDir, 'a.json'),
      '{\n  "mcpServers": {\n    "first": { "command": "x" },\n  }\n}\n',
    );
    write(path.join(stateDir, 'b.json'), { mcpServers: { second: stdio } });
    expect(load([]).map((d) => d.name)).toEqual(['second']);
    const [warning] = warnings();
    expect(warning?.file).toBe(broken);
    expect([warning?.line, warning?.column]).toEqual([4, 3]);
    expect(warning?.msg).toContain(
      `${broken}: not valid JSON at line 4, column 3 (4:3): property name expected`,
    );
  });
});
