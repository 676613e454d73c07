import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isSelfReference,
  loadServerDefinitions,
  serverDefinitionHash,
  type LoadServerOptions,
  type ServerDefinition,
} from '../../../src/config/servers-config.js';

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  key?: string;
  server?: string;
}
const WARN = 40;
const INFO = 30;
const DEBUG = 20;

let root: string;
let stateDir: string;
let logs: LogLine[];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'servers-config-'));
  stateDir = path.join(root, 'MCPs');
  fs.mkdirSync(stateDir);
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

function load(overrides: Partial<LoadServerOptions> = {}): ServerDefinition[] {
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  return loadServerDefinitions({
    stateDir,
    serversConfigPath: undefined,
    allowSelfServer: false,
    clientConfigs: [],
    home: path.join(root, 'home'),
    platform: 'linux',
    env: {},
    logger,
    cwd: path.join(root, 'workspace'),
    ...overrides,
  });
}

const names = (definitions: ServerDefinition[]) => definitions.map((d) => d.name);
const at = (level: number) => logs.filter((line) => line.level === level);

describe('loadServerDefinitions: sources and precedence', () => {
  it('reads every *.json in the state dir, sorted by name, with defaults filled in', () => {
    write(path.join(stateDir, 'b.json'), { mcpServers: { zeta: { command: 'z' } } });
    write(path.join(stateDir, 'a.json'), {
      mcpServers: { alpha: { command: 'npx', args: ['-y', 'pkg'], env: { K: 'v' } } },
    });
    write(path.join(stateDir, 'notes.txt'), 'not a config');
    const definitions = load();
    expect(definitions).toEqual([
      {
        name: 'alpha',
        command: 'npx',
        args: ['-y', 'pkg'],
        env: { K: 'v' },
        cwd: undefined,
        description: undefined,
        source: path.join(stateDir, 'a.json'),
      },
      {
        name: 'zeta',
        command: 'z',
        args: [],
        env: {},
        cwd: undefined,
        description: undefined,
        source: path.join(stateDir, 'b.json'),
      },
    ]);
  });

  it('lets the first definition of a name win and logs the shadowed one at info', () => {
    write(path.join(stateDir, '10-first.json'), { mcpServers: { dup: { command: 'first' } } });
    write(path.join(stateDir, '20-second.json'), { mcpServers: { dup: { command: 'second' } } });
    const extra = write(path.join(root, 'extra.json'), {
      mcpServers: { dup: { command: 'third' }, only: { command: 'extra' } },
    });
    const definitions = load({ serversConfigPath: extra });
    expect(definitions.map((d) => [d.name, d.command])).toEqual([
      ['dup', 'first'],
      ['only', 'extra'],
    ]);
    const shadowed = at(INFO).filter((line) => line.msg.includes('shadowed'));
    expect(shadowed).toHaveLength(2);
    expect(shadowed[0]?.msg).toContain('20-second.json');
    expect(shadowed[1]?.msg).toContain(extra);
  });

  it('reads the state dir before MCP_SERVERS_CONFIG, and a file named twice only once', () => {
    const inState = write(path.join(stateDir, 'servers.json'), {
      mcpServers: { one: { command: 'a' } },
    });
    expect(names(load({ serversConfigPath: inState }))).toEqual(['one']);
    expect(at(INFO).filter((line) => line.msg.includes('shadowed'))).toEqual([]);
  });

  it('ignores JSON files in subfolders (the bridge keeps its own state there)', () => {
    write(path.join(stateDir, 'cache', 'tools.json'), { mcpServers: { cached: { command: 'x' } } });
    write(path.join(stateDir, 'saved-tools', 't.json'), { mcpServers: { s: { command: 'x' } } });
    fs.mkdirSync(path.join(stateDir, 'folder.json'));
    write(path.join(stateDir, 'top.json'), { mcpServers: { top: { command: 'x' } } });
    const linked = write(path.join(root, 'elsewhere.json'), {
      mcpServers: { linked: { command: 'x' } },
    });
    fs.symlinkSync(linked, path.join(stateDir, 'linked.json'));
    expect(names(load())).toEqual(['linked', 'top']);
    expect(at(WARN)).toEqual([]);
  });

  it('uses the file-level description as the default and a per-server one over it', () => {
    write(path.join(stateDir, 'tools.json'), {
      description: 'Team tools',
      mcpServers: {
        plain: { command: 'x' },
        own: { command: 'y', description: 'Its own words' },
      },
    });
    const byName = Object.fromEntries(load().map((d) => [d.name, d.description]));
    expect(byName).toEqual({ plain: 'Team tools', own: 'Its own words' });
  });

  it('treats a missing state dir as normal (debug) and a missing MCP_SERVERS_CONFIG as a warning', () => {
    const missing = path.join(root, 'nope.json');
    expect(load({ stateDir: path.join(root, 'absent'), serversConfigPath: missing })).toEqual([]);
    expect(at(DEBUG).some((line) => line.msg.includes('does not exist'))).toBe(true);
    expect(at(WARN).map((line) => line.file)).toEqual([missing]);
  });
});

describe('loadServerDefinitions: malformed files and entries are skipped', () => {
  it('skips a file that is not JSON, naming it, and loads the rest', () => {
    const bad = write(path.join(stateDir, 'a-bad.json'), '{"mcpServers": {');
    write(path.join(stateDir, 'b-good.json'), { mcpServers: { good: { command: 'x' } } });
    expect(names(load())).toEqual(['good']);
    expect(at(WARN)).toHaveLength(1);
    expect(at(WARN)[0]?.msg).toContain(bad);
    expect(at(WARN)[0]?.msg).toContain('not valid JSON');
  });

  it.each([
    ['a top-level array', []],
    ['no mcpServers', { servers: {} }],
    ['mcpServers as a list', { mcpServers: [{ command: 'x' }] }],
    ['a non-string description', { description: 5, mcpServers: {} }],
  ])('skips a file with the wrong shape (%s)', (_label, content) => {
    const bad = write(path.join(stateDir, 'bad.json'), content);
    write(path.join(stateDir, 'good.json'), { mcpServers: { good: { command: 'x' } } });
    expect(names(load())).toEqual(['good']);
    expect(at(WARN)).toHaveLength(1);
    expect(at(WARN)[0]?.file).toBe(bad);
  });

  it('skips a malformed entry naming the file and the key; its siblings load', () => {
    const file = write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        github: { command: 'npx', args: '-y @modelcontextprotocol/server-github' },
        ok: { command: 'x' },
      },
    });
    expect(names(load())).toEqual(['ok']);
    const [warning] = at(WARN);
    expect(warning?.file).toBe(file);
    expect(warning?.key).toBe('mcpServers.github');
    expect(warning?.msg).toContain(file);
    expect(warning?.msg).toContain('mcpServers.github.args:');
    expect(warning?.msg).toContain('expected array');
  });

  it.each([
    ['no command', { args: [] }],
    ['an empty command', { command: '  ' }],
    ['a number in env', { command: 'x', env: { PORT: 3000 } }],
    ['a number in args', { command: 'x', args: ['--port', 3000] }],
    ['not an object', 'npx server'],
  ])('skips an entry with %s', (_label, entry) => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: { bad: entry, ok: { command: 'x' } },
    });
    expect(names(load())).toEqual(['ok']);
    expect(at(WARN).map((line) => line.key)).toEqual(['mcpServers.bad']);
  });

  it('refuses empty names and names longer than 100 characters', () => {
    const long = 'n'.repeat(101);
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        '': { command: 'x' },
        [long]: { command: 'x' },
        ['n'.repeat(100)]: { command: 'x' },
      },
    });
    expect(names(load())).toEqual(['n'.repeat(100)]);
    expect(at(WARN)).toHaveLength(2);
  });

  it('skips remote (url, http, sse) entries at info: only stdio servers are proxied', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        web: { url: 'https://example.com/mcp' },
        http: { type: 'http', url: 'https://example.com/mcp' },
        sse: { type: 'sse', command: 'ignored' },
        local: { type: 'stdio', command: 'x' },
      },
    });
    expect(names(load())).toEqual(['local']);
    expect(at(WARN)).toEqual([]);
    const remote = at(INFO).filter((line) => line.msg.includes('only stdio servers are proxied'));
    expect(remote.map((line) => line.server).sort()).toEqual(['http', 'sse', 'web']);
  });

  it('skips entries disabled in their file', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: { off: { command: 'x', disabled: true }, on: { command: 'x', disabled: false } },
    });
    expect(names(load())).toEqual(['on']);
  });
});

describe('loadServerDefinitions: self-reference', () => {
  const variants: [string, Record<string, unknown>][] = [
    ['its name', { command: 'node' }],
    ['npx with the package', { command: 'npx', args: ['-y', 'mcp-server-code-execution-mode'] }],
    ['a pkg@version spec', { command: 'npx', args: ['mcp-server-code-execution-mode@0.1.0'] }],
    [
      'a scoped pkg@version spec',
      { command: 'npx', args: ['@me/mcp-server-code-execution-mode@latest'] },
    ],
    ['the bin as a command', { command: 'mcp-server-code-execution-mode' }],
    ['a path to the bin', { command: '/usr/local/bin/mcp-server-code-execution-mode' }],
    ['a Windows shim', { command: 'C:\\npm\\mcp-server-code-execution-mode.cmd' }],
    [
      'a path into a checkout',
      { command: 'node', args: ['/src/mcp-server-code-execution-mode/dist/src/main.js'] },
    ],
    [
      'a git spec',
      {
        command: 'npx',
        args: ['git+https://github.com/x/mcp-server-code-execution-mode.git#main'],
      },
    ],
    ['a github: spec', { command: 'npx', args: ['github:x/mcp-server-code-execution-mode'] }],
    ['the Python module', { command: 'python', args: ['-m', 'mcp_server_code_execution_mode'] }],
    ['uvx --from=', { command: 'uvx', args: ['--from=mcp-server-code-execution-mode==1.0', 'x'] }],
    [
      'a shell line',
      { command: 'sh', args: ['-c', 'exec npx "mcp-server-code-execution-mode" run'] },
    ],
  ];

  it.each(variants)('skips an entry that launches the bridge through %s', (label, entry) => {
    const name = label === 'its name' ? 'mcp-server-code-execution-mode' : 'me';
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: { [name]: entry, ok: { command: 'x' } },
    });
    expect(names(load())).toEqual(['ok']);
    expect(at(WARN)[0]?.msg).toContain('MCP_BRIDGE_ALLOW_SELF_SERVER');
  });

  it('loads them all when allowSelfServer is set', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: Object.fromEntries(
        variants.map(([label, entry], i) => [`s${i}-${label}`, entry]),
      ),
    });
    expect(load({ allowSelfServer: true })).toHaveLength(variants.length);
    expect(at(WARN)).toEqual([]);
  });

  it.each([
    'mcp-server-code-execution',
    'mcp-server-code-execution-mode-helper',
    '@modelcontextprotocol/server-everything',
    'code-execution-mode',
  ])('does not mistake %s for the bridge', (value) => {
    expect(isSelfReference(value)).toBe(false);
  });
});

describe('loadServerDefinitions: cwd', () => {
  it('resolves a relative cwd against the config file folder and expands ~', () => {
    const home = path.join(root, 'home');
    fs.mkdirSync(path.join(home, 'proj'), { recursive: true });
    fs.mkdirSync(path.join(stateDir, 'work'));
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        rel: { command: 'x', cwd: 'work' },
        tilde: { command: 'x', cwd: '~/proj' },
        home: { command: 'x', cwd: '~' },
        abs: { command: 'x', cwd: root },
      },
    });
    const byName = Object.fromEntries(load({ home }).map((d) => [d.name, d.cwd]));
    expect(byName).toEqual({
      rel: path.join(stateDir, 'work'),
      tilde: path.join(home, 'proj'),
      home,
      abs: root,
    });
    expect(at(WARN)).toEqual([]);
  });

  it('warns about a missing cwd directory but still loads the entry', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: { gone: { command: 'x', cwd: 'nowhere' } },
    });
    expect(load().map((d) => d.cwd)).toEqual([path.join(stateDir, 'nowhere')]);
    expect(at(WARN)).toHaveLength(1);
    expect(at(WARN)[0]?.msg).toContain(path.join(stateDir, 'nowhere'));
  });
});

describe('serverDefinitionHash', () => {
  const base: ServerDefinition = {
    name: 'a',
    command: 'npx',
    args: ['-y', 'pkg'],
    env: { A: '1', B: '2' },
    cwd: undefined,
    description: 'one',
    source: '/x.json',
  };

  it('is a sha256 hex digest, stable across env key order and non-launch fields', () => {
    const hash = serverDefinitionHash(base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(
      serverDefinitionHash({
        ...base,
        env: { B: '2', A: '1' },
        name: 'b',
        description: 'two',
        source: '/y.json',
      }),
    ).toBe(hash);
  });

  it('changes when the command, args, env or cwd change', () => {
    const hash = serverDefinitionHash(base);
    const variants: ServerDefinition[] = [
      { ...base, command: 'node' },
      { ...base, args: ['-y', 'pkg', '--flag'] },
      { ...base, args: ['pkg', '-y'] },
      { ...base, env: { A: '1', B: '3' } },
      { ...base, env: { A: '1' } },
      { ...base, cwd: '/tmp' },
    ];
    const hashes = variants.map(serverDefinitionHash);
    expect(hashes).not.toContain(hash);
    expect(new Set(hashes).size).toBe(variants.length);
  });
});

describe('a server’s tools policy', () => {
  it('reads allow, ask and deny patterns, each list defaulting to empty', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        gh: { command: 'gh-mcp', tools: { deny: ['delete_*'], ask: ['create_?'] } },
        plain: { command: 'plain-mcp' },
      },
    });
    const [gh, plain] = load();
    expect(gh?.tools).toEqual({ allow: [], ask: ['create_?'], deny: ['delete_*'] });
    expect(plain?.tools).toBeUndefined();
  });

  it('skips a server whose policy does not parse, naming the problem, rather than run it unpoliced', () => {
    write(path.join(stateDir, 'servers.json'), {
      mcpServers: {
        typo: { command: 'x', tools: { denied: ['*'] } },
        notList: { command: 'x', tools: { deny: 'delete_*' } },
        ok: { command: 'x' },
      },
    });
    expect(load().map((definition) => definition.name)).toEqual(['ok']);
    const warnings = logs.filter((line) => line.level === WARN).map((line) => line.msg);
    expect(warnings.join('\n')).toMatch(/typo.*tools/);
    expect(warnings.join('\n')).toMatch(/notList.*tools\.deny/);
  });
});
