/**
 * Captures the real `tools/list` answers of the reference MCP servers into
 * `test/fixtures/catalogs/<server>.json`, the corpus of the search recall test and bench.
 *
 *   npx tsx scripts/capture-catalogs.ts [--modules <dir>]
 *
 * Each server package is looked up in this project's node_modules, then in
 * `<dir>/node_modules` (default `$CATALOG_SERVERS_DIR`). The ones that are not
 * devDependencies can be installed apart so that the project stays untouched:
 *
 *   npm install --prefix /tmp/catalog-servers @modelcontextprotocol/server-github \
 *     @modelcontextprotocol/server-slack @modelcontextprotocol/server-postgres \
 *     @modelcontextprotocol/server-sequential-thinking
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

interface ServerSpec {
  server: string;
  pkg: string;
  args?: (scratch: string) => string[];
  env?: (scratch: string) => Record<string, string>;
  /** Why the dummy arguments or env are there. */
  note?: string;
}

const SERVERS: ServerSpec[] = [
  { server: 'everything', pkg: '@modelcontextprotocol/server-everything', args: () => ['stdio'] },
  {
    server: 'filesystem',
    pkg: '@modelcontextprotocol/server-filesystem',
    args: (scratch) => [scratch],
    note: 'allowed directory: a temporary folder',
  },
  {
    server: 'memory',
    pkg: '@modelcontextprotocol/server-memory',
    env: (scratch) => ({ MEMORY_FILE_PATH: join(scratch, 'memory.jsonl') }),
  },
  {
    server: 'github',
    pkg: '@modelcontextprotocol/server-github',
    env: () => ({ GITHUB_PERSONAL_ACCESS_TOKEN: 'dummy' }),
    note: 'dummy GITHUB_PERSONAL_ACCESS_TOKEN (listing needs no credentials)',
  },
  {
    server: 'slack',
    pkg: '@modelcontextprotocol/server-slack',
    env: () => ({ SLACK_BOT_TOKEN: 'dummy', SLACK_TEAM_ID: 'dummy' }),
    note: 'dummy SLACK_BOT_TOKEN and SLACK_TEAM_ID (listing needs no credentials)',
  },
  {
    server: 'postgres',
    pkg: '@modelcontextprotocol/server-postgres',
    args: () => ['postgresql://localhost/x'],
    note: 'URL of a database that need not exist (listing opens no connection)',
  },
  { server: 'sequential-thinking', pkg: '@modelcontextprotocol/server-sequential-thinking' },
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test', 'fixtures', 'catalogs');

interface PackageJson {
  version: string;
  bin?: string | Record<string, string>;
}

function findPackage(pkg: string, modulesDirs: string[]): { dir: string; json: PackageJson } {
  for (const base of modulesDirs) {
    const dir = join(base, 'node_modules', pkg);
    if (existsSync(join(dir, 'package.json'))) {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      return { dir, json };
    }
  }
  throw new Error(`${pkg} is not installed in ${modulesDirs.join(' or ')} (see --modules)`);
}

function binPath(dir: string, json: PackageJson): string {
  const bin = typeof json.bin === 'string' ? json.bin : Object.values(json.bin ?? {})[0];
  if (bin === undefined) throw new Error(`${dir} has no bin entry`);
  return join(dir, bin);
}

async function capture(spec: ServerSpec, modulesDirs: string[]): Promise<void> {
  const { dir, json } = findPackage(spec.pkg, modulesDirs);
  const scratch = mkdtempSync(join(tmpdir(), `catalog-${spec.server}-`));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath(dir, json), ...(spec.args?.(scratch) ?? [])],
    env: { PATH: process.env.PATH ?? '', ...spec.env?.(scratch) },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'capture-catalogs', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(
        ...page.tools.map(({ name, description, inputSchema }) => ({
          name,
          description,
          inputSchema,
        })),
      );
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const fixture = {
      server: spec.server,
      package: spec.pkg,
      version: json.version,
      source: `tools/list over stdio (SDK Client)${spec.note === undefined ? '' : `; ${spec.note}`}`,
      tools,
    };
    writeFileSync(join(outDir, `${spec.server}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`${spec.server}: ${tools.length} tools (${spec.pkg}@${json.version})`);
  } finally {
    await client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { modules: { type: 'string' } } });
const extra = values.modules ?? process.env.CATALOG_SERVERS_DIR;
const modulesDirs = extra === undefined ? [root] : [root, extra];
let failed = false;
for (const spec of SERVERS) {
  try {
    await capture(spec, modulesDirs);
  } catch (error: unknown) {
    failed = true;
    console.error(`${spec.server}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exitCode = failed ? 1 : 0;
