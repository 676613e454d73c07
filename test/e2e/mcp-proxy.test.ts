import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  REPO_ROOT,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * Proxying, end to end: the real MCP SDK client over stdio → the built bridge → Python in
 * a real container → back to the host → real MCP servers from npm, spawned by the bridge.
 */

const serverBin = (name: string) =>
  path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol', name, 'dist/index.js');

interface Hit {
  server: string;
  tool: string;
  loaded: boolean;
}

describeEachEngine('MCP servers proxied into run_python', (engine) => {
  let bridge: BridgeHandle;
  let scratch: string;
  let files: string;

  /** Runs code (with `servers`) and expects success. */
  const run = async (code: string, servers: string[] = []) => {
    const result = await bridge.run({ code, servers });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return result;
  };

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mcp-proxy-e2e-'));
    const stateDir = path.join(scratch, 'state');
    files = path.join(scratch, 'files');
    for (const folder of [stateDir, files]) mkdirSync(folder);
    const node = process.execPath;
    const config = {
      description: 'Servers of the proxy e2e test',
      mcpServers: {
        everything: {
          command: node,
          args: [serverBin('server-everything')],
          description: 'The MCP reference server with every feature',
        },
        filesystem: { command: node, args: [serverBin('server-filesystem'), files] },
        memory: {
          command: node,
          args: [serverBin('server-memory')],
          env: { MEMORY_FILE_PATH: path.join(scratch, 'memory.jsonl') },
          description: 'A knowledge graph',
        },
        spare: {
          command: node,
          args: [path.join(REPO_ROOT, 'test/fixtures/misbehaving-server.mjs')],
          description: 'Never named in servers',
        },
      },
    };
    writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('lists every configured server, loaded or not, and a call without servers reaches none', async () => {
    const result = await run(
      [
        'import json',
        'from mcp import runtime',
        'print("NAMES " + json.dumps(runtime.discovered_servers()))',
        'print("DETAILS " + json.dumps(runtime.discovered_servers(detailed=True)))',
        'print("LOADED " + json.dumps([await runtime.list_servers(), list(LOADED_MCP_SERVERS)]))',
        'try:',
        '    await runtime.call_tool("everything", "echo", {"message": "hi"})',
        'except runtime.MCPError as error:',
        '    print("REFUSED " + json.dumps(str(error)))',
      ].join('\n'),
    );
    expect(printedJson(result, 'NAMES ')).toEqual(['everything', 'filesystem', 'memory', 'spare']);
    const details = printedJson<{ name: string; description?: string }[]>(result, 'DETAILS ');
    expect(details.map(({ name, description }) => [name, description])).toEqual([
      ['everything', 'The MCP reference server with every feature'],
      ['filesystem', 'Servers of the proxy e2e test'], // the file-level default
      ['memory', 'A knowledge graph'],
      ['spare', 'Never named in servers'],
    ]);
    expect(printedJson(result, 'LOADED ')).toEqual([[], []]);
    expect(printedJson(result, 'REFUSED ')).toContain("Server 'everything' is not available");
  });

  it('ranks search hits across the servers whose tools are known, saying which are loaded', async () => {
    const code = [
      'import json',
      'from mcp import runtime',
      'hits = await runtime.search_tool_docs("add two numbers")',
      'print("HITS " + json.dumps(hits))',
      'print("SKIPPED " + json.dumps([entry["server"] for entry in hits.not_searched]))',
    ].join('\n');
    // Search starts nothing: a server is searchable once a call named it (or from its cache).
    const loadedRun = await run(code, ['everything']);
    const loaded = printedJson<Hit[]>(loadedRun, 'HITS ');
    expect(loaded[0]).toMatchObject({ server: 'everything', tool: 'get-sum', loaded: true });
    expect(printedJson(loadedRun, 'SKIPPED ')).toEqual(['filesystem', 'memory', 'spare']);
    const unloaded = printedJson<Hit[]>(await run(code), 'HITS ');
    expect(unloaded[0]).toMatchObject({ server: 'everything', tool: 'get-sum', loaded: false });
  });

  it('calls server-everything: echo, get-sum by its alias, the tiny image, docs and help', async () => {
    const result = await run(
      [
        'import json, base64, io, contextlib',
        'from mcp import runtime',
        'r = await mcp_everything.echo(message="héllo from the sandbox")',
        'print("ECHO " + json.dumps([r["content"][0]["text"], r.text]))',
        'print("SUM " + json.dumps((await mcp_everything.get_sum(a=19, b=23)).text))',
        'img = await mcp_everything.get_tiny_image()',
        'images = [c for c in img["content"] if c["type"] == "image"]',
        'png = base64.b64decode(images[0]["data"])',
        'print("IMAGE " + json.dumps([len(images), images[0]["mimeType"], png[:4].hex()]))',
        'doc = await runtime.query_tool_docs("everything", tool="echo", detail="full")',
        'print("DOC " + json.dumps(doc))',
        'buffer = io.StringIO()',
        'with contextlib.redirect_stdout(buffer):',
        '    help(mcp_everything.echo)',
        'print("HELP " + json.dumps(buffer.getvalue()))',
      ].join('\n'),
      ['everything'],
    );
    expect(printedJson(result, 'ECHO ')).toEqual([
      'Echo: héllo from the sandbox',
      'Echo: héllo from the sandbox',
    ]);
    expect(printedJson(result, 'SUM ')).toBe('The sum of 19 and 23 is 42.');
    expect(printedJson(result, 'IMAGE ')).toEqual([1, 'image/png', '89504e47']); // \x89PNG
    const doc = printedJson<Record<string, unknown>>(result, 'DOC ');
    expect(doc).toMatchObject({ server: 'everything', tool: 'echo', toolAlias: 'echo' });
    expect(doc.inputSchema).toMatchObject({ properties: { message: { type: 'string' } } });
    const help = printedJson<string>(result, 'HELP ');
    expect(help).toContain('Echoes back the input string');
    expect(help).toContain('message');
  });

  it('writes with server-filesystem to the host disk and reads it back', async () => {
    const target = path.join(files, 'note.txt');
    const text = 'written through the bridge\nline two ✓';
    const result = await run(
      [
        'import json',
        `target, text = ${JSON.stringify(target)}, ${JSON.stringify(text)}`,
        'w = await mcp_filesystem.write_file(path=target, content=text)',
        'assert not w.is_error, w.text',
        'r = await mcp_filesystem.read_text_file(path=target)',
        'print("READ " + json.dumps(r["content"][0]["text"]))',
      ].join('\n'),
      ['filesystem'],
    );
    expect(printedJson(result, 'READ ')).toBe(text);
    expect(readFileSync(target, 'utf8')).toBe(text);
  });

  it('creates an entity with server-memory and reads it in the graph', async () => {
    const result = await run(
      [
        'import json',
        'entity = {"name": "Ada", "entityType": "person", "observations": ["wrote notes"]}',
        'await mcp_memory.create_entities(entities=[entity])',
        'graph = (await mcp_memory.read_graph()).data',
        'print("GRAPH " + json.dumps(graph["entities"]))',
      ].join('\n'),
      ['memory'],
    );
    expect(printedJson(result, 'GRAPH ')).toEqual([
      { name: 'Ada', entityType: 'person', observations: ['wrote notes'] },
    ]);
    // The server got its config's env: the graph is in the file MEMORY_FILE_PATH names.
    expect(readFileSync(path.join(scratch, 'memory.jsonl'), 'utf8')).toContain('"Ada"');
  });

  it('uses several servers in one call, and gathers 50 concurrent calls in order', async () => {
    const result = await run(
      [
        'import json, asyncio',
        'from mcp import runtime',
        'echoes = await asyncio.gather(*(mcp_everything.echo(message=f"m{i}") for i in range(50)))',
        'print("GATHER " + json.dumps([r.text for r in echoes]))',
        'listing = await mcp_filesystem.list_allowed_directories()',
        'graph = await mcp_memory.read_graph()',
        'print("SEVERAL " + json.dumps([await runtime.list_servers(), "Ada" in graph.text,',
        '                               listing.is_error]))',
      ].join('\n'),
      ['everything', 'filesystem', 'memory'],
    );
    expect(printedJson(result, 'GATHER ')).toEqual(
      Array.from({ length: 50 }, (_, index) => `Echo: m${index}`),
    );
    expect(printedJson(result, 'SEVERAL ')).toEqual([
      ['everything', 'filesystem', 'memory'],
      true,
      false,
    ]);
  });

  it('refuses servers outside the call, whatever their spelling', async () => {
    const result = await run(
      [
        'import json',
        'from mcp import runtime',
        'refusals = []',
        'for server in ("filesystem", "Everything", "EVERYTHING", "filesystem "):',
        '    try:',
        `        await runtime.call_tool(server, "read_text_file", {"path": "/etc/hostname"})`,
        '        refusals.append("ALLOWED")',
        '    except runtime.MCPError as error:',
        '        refusals.append(str(error))',
        'print("REFUSALS " + json.dumps(refusals))',
        'print("GLOBAL " + json.dumps("mcp_filesystem" in globals()))',
      ].join('\n'),
      ['everything'],
    );
    expect(printedJson(result, 'REFUSALS ')).toEqual([
      "Server 'filesystem' is not available",
      "Server 'Everything' is not available",
      "Server 'EVERYTHING' is not available",
      "Server 'filesystem ' is not available",
    ]);
    // Proxies of an earlier call's servers are gone.
    expect(printedJson(result, 'GLOBAL ')).toBe(false);
  });

  it('refuses an unknown server name before running, listing the closest first', async () => {
    const refused = await bridge.run({ code: 'print("ran")', servers: ['everythin', 'memory'] });
    const payload = payloadOf(refused);
    expect(refused.isError).toBe(true);
    expect(payload.status).toBe('validation_error');
    const listed = /^Unknown server: everythin\. Configured servers: (.*)\.$/.exec(
      payload.error ?? '',
    );
    const names = listed?.[1]?.split(', ') ?? [];
    expect(names[0], payload.error).toBe('everything');
    expect([...names].sort()).toEqual(['everything', 'filesystem', 'memory', 'spare']);
    expect(payload.stdout ?? []).toEqual([]);

    const next = await run('print((await mcp_everything.echo(message="next")).text)', [
      'everything',
    ]);
    expect(payloadOf(next).stdout).toEqual(['Echo: next']);
  });
});
