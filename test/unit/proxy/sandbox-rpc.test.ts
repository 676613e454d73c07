import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerDefinition } from '../../../src/config/servers-config.js';
import { createLogger } from '../../../src/logger.js';
import {
  MAX_TOOL_ARGUMENT_BYTES,
  NOT_INDEXED_REASON,
  sandboxRpcHandler,
} from '../../../src/proxy/sandbox-rpc.js';
import { ServerCatalog } from '../../../src/proxy/server-catalog.js';
import type { RpcHandler } from '../../../src/session/rpc-gate.js';
import { SavedToolStore } from '../../../src/state/saved-tools.js';

const logger = createLogger('silent');
const tool = (name: string, description: string): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
});
const TOOLS: Record<string, Tool[]> = {
  everything: [
    tool('echo', 'Echoes back the input'),
    tool('get-sum', 'Returns the sum of two numbers'),
  ],
  filesystem: [tool('read_text_file', 'Read the complete contents of a file as text')],
};
const definition = (name: string): ServerDefinition => ({
  name,
  command: 'node',
  args: [`${name}.js`],
  env: {},
  cwd: undefined,
  description: `${name} server`,
  source: 'test',
});

let stateDir: string;
let calls: { server: string; tool: string; args: unknown; signal: AbortSignal }[];
/** Servers whose tools were listed, i.e. started (the lister is what starts a server). */
let started: string[];
let catalog: ServerCatalog;
let handler: (allowed: string[]) => RpcHandler;
const cellSignal = new AbortController().signal;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-rpc-'));
  calls = [];
  started = [];
  catalog = new ServerCatalog({
    definitions: Object.keys(TOOLS).map(definition),
    lister: {
      tools: (server) => {
        started.push(server);
        return Promise.resolve(TOOLS[server] ?? []);
      },
    },
    stateDir,
    logger,
  });
  const caller = {
    callTool: (server: string, name: string, args: unknown, options: { signal: AbortSignal }) => {
      calls.push({ server, tool: name, args, signal: options.signal });
      const result: CallToolResult = { content: [{ type: 'text', text: `${server}/${name}` }] };
      return Promise.resolve(result);
    },
  };
  const savedTools = new SavedToolStore(stateDir, logger);
  handler = (allowed) =>
    sandboxRpcHandler({
      allowed: new Set(allowed),
      session: 'default',
      catalog,
      caller,
      savedTools,
    });
});

afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('sandboxRpcHandler', () => {
  it('lists only the servers loaded for the call, sorted', async () => {
    expect(
      await handler(['filesystem', 'everything'])({ type: 'list_servers' }, cellSignal),
    ).toEqual({
      servers: ['everything', 'filesystem'],
    });
  });

  it('calls a loaded server with the cell signal and returns the result', async () => {
    const answer = await handler(['everything'])(
      { type: 'call_tool', server: 'everything', tool: 'echo', arguments: { text: 'hi' } },
      cellSignal,
    );
    expect(answer).toEqual({ result: { content: [{ type: 'text', text: 'everything/echo' }] } });
    expect(calls).toEqual([
      { server: 'everything', tool: 'echo', args: { text: 'hi' }, signal: cellSignal },
    ]);
  });

  it('refuses servers outside the allow-list, including case and alias variants', async () => {
    const rpc = handler(['everything']);
    for (const server of ['filesystem', 'Everything', 'EVERYTHING', 'everything ', 'nope']) {
      await expect(
        rpc({ type: 'call_tool', server, tool: 'read_text_file', arguments: {} }, cellSignal),
      ).rejects.toThrow(`Server '${server}' is not available`);
    }
    await expect(rpc({ type: 'list_tools', server: 'filesystem' }, cellSignal)).rejects.toThrow(
      /not available/,
    );
    expect(calls).toEqual([]);
  });

  it('refuses oversized arguments and malformed requests before any server sees them', async () => {
    const rpc = handler(['everything']);
    const huge = { text: 'x'.repeat(MAX_TOOL_ARGUMENT_BYTES) };
    await expect(
      rpc({ type: 'call_tool', server: 'everything', tool: 'echo', arguments: huge }, cellSignal),
    ).rejects.toThrow(/the limit is/);
    await expect(rpc({ type: 'call_tool', server: 'everything' }, cellSignal)).rejects.toThrow(
      /Invalid 'call_tool' request: tool/,
    );
    await expect(rpc({ type: 'format_disk' }, cellSignal)).rejects.toThrow(/Invalid 'format_disk'/);
    expect(calls).toEqual([]);
  });

  it('refuses arguments that are not an object, and drops an own __proto__ key', async () => {
    const rpc = handler(['everything']);
    for (const [value, kind] of [
      [['x'], 'array'],
      ['x', 'string'],
      [3, 'number'],
    ] as const) {
      await expect(
        rpc(
          { type: 'call_tool', server: 'everything', tool: 'echo', arguments: value },
          cellSignal,
        ),
      ).rejects.toThrow(
        `Invalid 'call_tool' request: arguments Invalid input: expected record, received ${kind}`,
      );
    }
    expect(calls).toEqual([]);
    const args = JSON.parse('{"__proto__":{"isAdmin":true},"text":"hi"}') as Record<
      string,
      unknown
    >;
    await rpc(
      { type: 'call_tool', server: 'everything', tool: 'echo', arguments: args },
      cellSignal,
    );
    const forwarded = calls[0]?.args as Record<string, unknown>;
    expect(Object.keys(forwarded)).toEqual(['text']);
    expect(Object.getPrototypeOf(forwarded)).toBe(Object.prototype);
    expect(JSON.stringify(forwarded)).toBe('{"text":"hi"}');
  });

  it('answers docs for loaded servers and, from the catalog, for known unloaded ones', async () => {
    const rpc = handler(['everything']);
    const full = await rpc(
      { type: 'query_tool_docs', server: 'everything', tool: 'get_sum', detail: 'full' },
      cellSignal,
    );
    expect(full).toEqual({
      docs: [
        {
          server: 'everything',
          serverAlias: 'everything',
          tool: 'get-sum',
          toolAlias: 'get_sum',
          description: 'Returns the sum of two numbers',
          inputSchema: TOOLS.everything?.[1]?.inputSchema,
        },
      ],
    });
    // Not loaded and never listed: unknown, and started neither by a docs query nor a search.
    await expect(
      rpc({ type: 'query_tool_docs', server: 'filesystem' }, cellSignal),
    ).rejects.toThrow(/not available/);
    await rpc({ type: 'search_tool_docs', query: 'file' }, cellSignal);
    await expect(
      rpc({ type: 'query_tool_docs', server: 'filesystem' }, cellSignal),
    ).rejects.toThrow(/not available/);
    expect(started).toEqual(['everything']);
    // Once an earlier call loaded it, its docs come from the catalog.
    await catalog.load('filesystem');
    await expect(
      rpc({ type: 'query_tool_docs', server: 'filesystem' }, cellSignal),
    ).resolves.toMatchObject({ docs: [{ tool: 'read_text_file' }] });
  });

  it('searches only servers whose tools are known, starting none, and says which it skipped', async () => {
    type Answer = {
      results: { server: string; tool: string; loaded: boolean }[];
      notSearched: { server: string; reason: string }[];
    };
    const search = async (allowed: string[], query: string) =>
      (await handler(allowed)({ type: 'search_tool_docs', query }, cellSignal)) as Answer;

    const nothingKnown = await search([], 'read a file');
    expect(started).toEqual([]);
    expect(nothingKnown.results).toEqual([]);
    expect(nothingKnown.notSearched).toEqual([
      { server: 'everything', reason: NOT_INDEXED_REASON },
      { server: 'filesystem', reason: NOT_INDEXED_REASON },
    ]);
    expect(NOT_INDEXED_REASON).toMatch(/not been started.*name it in `servers`/);

    // A call that names `everything` loads it (prepareCallServers does, before the code).
    await catalog.load('everything');
    const sum = await search(['everything'], 'add two numbers');
    expect(sum.results[0]).toMatchObject({ tool: 'get-sum', loaded: true });
    expect(sum.notSearched.map((entry) => entry.server)).toEqual(['filesystem']);
    // A later call that does not name it still finds it, not loaded in that call.
    const later = await search([], 'add two numbers');
    expect(later.results[0]).toMatchObject({ tool: 'get-sum', loaded: false });
    expect(started).toEqual(['everything']);
  });

  it('saves, lists and deletes saved tools', async () => {
    const rpc = handler([]);
    const source = 'def double(x):\n    return 2 * x\n';
    expect(
      await rpc({ type: 'save_tool', name: 'double', source, description: 'Twice' }, cellSignal),
    ).toEqual({
      saved: 'double',
    });
    expect(await rpc({ type: 'list_saved_tools' }, cellSignal)).toMatchObject({
      tools: [{ name: 'double', description: 'Twice' }],
    });
    await expect(rpc({ type: 'save_tool', name: '../evil', source }, cellSignal)).rejects.toThrow(
      /not a valid tool name/,
    );
    expect(await rpc({ type: 'delete_saved_tool', name: 'double' }, cellSignal)).toEqual({
      deleted: true,
    });
    expect(await rpc({ type: 'delete_saved_tool', name: 'double' }, cellSignal)).toEqual({
      deleted: false,
    });
  });
});

describe('ServerCatalog', () => {
  it('remembers tool lists on disk, so a later bridge can search servers it never started', async () => {
    const definitions = Object.keys(TOOLS).map(definition);
    const first = new ServerCatalog({
      definitions,
      lister: { tools: (server) => Promise.resolve(TOOLS[server] ?? []) },
      stateDir,
      logger,
    });
    await first.load('everything');
    const later = new ServerCatalog({
      definitions,
      lister: { tools: () => Promise.reject(new Error('must not start')) },
      stateDir,
      logger,
    });
    expect(later.knownTools('everything')?.map((known) => known.name)).toEqual(['echo', 'get-sum']);
    expect(later.knownTools('filesystem')).toBeUndefined();
    expect(later.discovered()).toEqual([
      { name: 'everything', description: 'everything server', toolCount: 2 },
      { name: 'filesystem', description: 'filesystem server' },
    ]);
    expect(later.searchIndex().search('sum of numbers')[0]).toMatchObject({ tool: 'get-sum' });
  });
});

describe('sandboxRpcHandler and the audit trail', () => {
  const recorded: unknown[] = [];
  const reads: number[] = [];
  const audited = (allowed: string[]) =>
    sandboxRpcHandler({
      allowed: new Set(allowed),
      session: 'default',
      catalog,
      caller: {
        callTool: () => Promise.resolve({ content: [{ type: 'text', text: 'ok' }] }),
      },
      savedTools: new SavedToolStore(stateDir, logger),
      audit: {
        storeArguments: false,
        bridge: 'b',
        record: (entry) => void recorded.push(entry),
        ownRecent: (limit) => {
          reads.push(limit);
          return [];
        },
      },
    });

  it('refuses hostile `calls` limits before reading anything', async () => {
    for (const limit of [-1, 0, 1001, 1e9, 1.5, 'x', true, Number.NaN]) {
      await expect(audited([])({ type: 'calls', limit }, cellSignal)).rejects.toThrow(
        /Invalid 'calls' request: limit/,
      );
    }
    expect(reads).toEqual([]);
    expect(await audited([])({ type: 'calls' }, cellSignal)).toEqual({ calls: [] });
    expect(await audited([])({ type: 'calls', limit: 1000 }, cellSignal)).toEqual({ calls: [] });
    expect(reads).toEqual([20, 1000]);
  });

  it('records a refused call that never reached a server', async () => {
    await expect(
      audited(['everything'])(
        { type: 'call_tool', server: 'filesystem', tool: 'read_text_file', arguments: {} },
        cellSignal,
      ),
    ).rejects.toThrow(/not available/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorded).toEqual([
      expect.objectContaining({ server: 'filesystem', outcome: 'refused' }),
    ]);
  });
});
