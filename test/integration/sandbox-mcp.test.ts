import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcRequestFrameSchema, sandboxFrameSchema } from '../../src/channel/frames.js';
import {
  SandboxProcess,
  type Frame,
  type RpcReply,
  type RpcRequest,
  type RpcResult,
} from '../support/sandbox-process.js';

// The in-sandbox `mcp` package and the runner's side of MCP proxying, driven through the
// protocol (docs/protocol.md, "MCP servers in a call" and "RPC"): the test is the host,
// sends `servers` in execute frames and answers the runner's rpc_request frames itself.

const FS = {
  name: 'file-system',
  alias: 'file_system',
  description: 'Read and write files.',
  cwd: '/data',
  tools: [
    {
      name: 'read-file',
      alias: 'read_file',
      description: 'Read the complete contents of a file.',
      inputSchema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'Path of the file' },
          head: { type: 'integer', description: 'Only the first N lines' },
        },
        required: ['path'],
      },
    },
    {
      name: 'list_directory',
      alias: 'list_directory',
      description: 'List a directory.',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
    },
  ],
};
const MEMORY = {
  name: 'memory',
  alias: 'memory',
  tools: [{ name: 'read_graph', alias: 'read_graph', inputSchema: { type: 'object' } }],
};
const CAPABILITIES = {
  TEXT: 'The manual.',
  SERVERS: ['file-system', 'github', 'memory'],
  SERVER_DETAILS: [
    { name: 'file-system', description: 'Files', toolCount: 2 },
    { name: 'github', description: 'GitHub API', toolCount: 26 },
    { name: 'memory', toolCount: 1 },
  ],
};

/** Python source written indented inside the test; the common indentation removed. */
function py(strings: TemplateStringsArray, ...values: unknown[]): string {
  const lines = String.raw({ raw: strings }, ...values)
    .replace(/^\n/, '')
    .trimEnd()
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.search(/\S/)));
  return lines.map((line) => line.slice(indent)).join('\n');
}

const ok = (payload: Record<string, unknown>): RpcReply => ({ success: true, payload });
const fail = (error: string): RpcReply => ({ success: false, error });
const textResult = (text: string) => ({ result: { content: [{ type: 'text', text }] } });

/** Every request must pass the host's own schema. */
function checked(request: RpcRequest): RpcRequest {
  const parsed = rpcRequestFrameSchema.safeParse(request);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  return request;
}

function completed(result: RpcResult): RpcResult {
  expect(result.stderr).toBe('');
  expect(result.done).toMatchObject({ outcome: 'completed', exitCode: 0 });
  result.requests.forEach(checked);
  return result;
}

/** Waits for the runner's warning that contains `text`. */
async function warning(sandbox: SandboxProcess, text: string): Promise<Frame> {
  const frame = await sandbox.take((f) => f.type === 'log' && String(f.message).includes(text));
  expect(sandboxFrameSchema.safeParse(frame).success).toBe(true);
  return frame;
}

describe('sandbox mcp package', () => {
  let sandbox: SandboxProcess;
  const run = (
    code: string,
    reply: (request: RpcRequest) => RpcReply = () => fail('unexpected request'),
    servers: unknown = [FS, MEMORY],
  ) => sandbox.executeWithRpc(code, reply, { servers });

  beforeAll(async () => {
    sandbox = new SandboxProcess({ generated: { 'mcp._capabilities': CAPABILITIES } });
    await sandbox.takeType('ready');
  });
  afterAll(async () => {
    await sandbox.close();
    expect(sandbox.badLines).toEqual([]);
  });

  it('installs the call servers as proxies, modules and globals, and removes them after', async () => {
    const loaded = completed(
      await run(py`
        import sys, mcp.servers
        print(LOADED_MCP_SERVERS, sorted(mcp_servers), mcp_servers["file-system"] is mcp_file_system)
        module = sys.modules["mcp.servers.file_system"]
        print(module is mcp.servers.file_system, [t["name"] for t in module.TOOLS])
        print(sorted(module.TOOL_MAP), module.read_file is mcp_file_system.read_file)
        print(mcp_file_system, callable(save_tool), runtime.__name__)
        mcp_memory_mine = "a user variable"
      `),
    );
    expect(loaded.stdout).toBe(
      [
        "('file-system', 'memory') ['file-system', 'memory'] True",
        "True ['read-file', 'list_directory']",
        "['list_directory', 'read-file', 'read_file'] True",
        "<MCP server 'file-system': 2 tools: read_file, list_directory> True mcp.runtime",
        '',
      ].join('\n'),
    );
    const next = completed(
      await run(
        py`
          import sys
          print(LOADED_MCP_SERVERS, list(mcp_servers), "mcp_file_system" in globals())
          print("mcp.servers.file_system" in sys.modules, hasattr(mcp.servers, "file_system"))
          print(mcp_memory, mcp_memory_mine)
        `,
        undefined,
        [MEMORY],
      ),
    );
    expect(next.stdout).toBe(
      "('memory',) ['memory'] False\nFalse False\n" +
        "<MCP server 'memory': 1 tools: read_graph> a user variable\n",
    );
    const none = completed(
      await run('print(LOADED_MCP_SERVERS, mcp_servers, "mcp_memory" in globals())', undefined, []),
    );
    expect(none.stdout).toBe('() {} False\n');
  });

  it('skips malformed server and tool entries with a warning and loads the rest', async () => {
    const badTool = { name: 'x', alias: 'not valid', inputSchema: {} };
    const servers = [
      FS,
      'nonsense',
      { name: 'bad', alias: '1bad', tools: [] },
      { ...MEMORY, tools: [...MEMORY.tools, badTool] },
      { ...MEMORY },
    ];
    const result = completed(
      await run(
        'import mcp.servers as s\nprint(LOADED_MCP_SERVERS, s.memory.TOOL_MAP.keys())',
        undefined,
        servers,
      ),
    );
    expect(result.stdout).toBe("('file-system', 'memory') dict_keys(['read_graph'])\n");
    await warning(sandbox, 'servers[1]: not an object');
    await warning(sandbox, "'alias' '1bad' is not a usable Python name");
    await warning(sandbox, "ignored tool 1 of server 'memory'");
    await warning(sandbox, "servers[4]: duplicate name or alias 'memory'");
    const notList = completed(await run('print(LOADED_MCP_SERVERS)', undefined, 'fs'));
    expect(notList.stdout).toBe('()\n');
    await warning(sandbox, "ignored 'servers': not a list");
  });

  it('calls a tool through its proxy by alias, with real names on the wire', async () => {
    const result = completed(
      await run(
        py`
          import json
          result = await mcp_file_system.read_file(path="/data/a.txt", head=2)
          print(result["content"][0]["text"], result.text, result.data, result.is_error)
          print(isinstance(result, dict), json.dumps(result))
          same = await getattr(mcp_file_system, "read-file")({"path": "b"})
          print(same.data)
        `,
        (request) => ok(textResult(JSON.stringify({ lines: request.payload.arguments }))),
      ),
    );
    expect(result.requests.map((r) => r.payload)).toEqual([
      {
        type: 'call_tool',
        server: 'file-system',
        tool: 'read-file',
        arguments: { path: '/data/a.txt', head: 2 },
      },
      { type: 'call_tool', server: 'file-system', tool: 'read-file', arguments: { path: 'b' } },
    ]);
    expect(result.requests[0]?.execId).toBe(result.done.id);
    const text = '{"lines":{"path":"/data/a.txt","head":2}}';
    expect(result.stdout).toBe(
      `${text} ${text} {'lines': {'path': '/data/a.txt', 'head': 2}} False\n` +
        `True {"content": [{"type": "text", "text": ${JSON.stringify(text)}}]}\n` +
        "{'lines': {'path': 'b'}}\n",
    );
  });

  it('tells a tool name from an equal alias of another tool', async () => {
    const twins = {
      name: 'twins',
      alias: 'twins',
      tools: [
        { name: 'read-file', alias: 'read_file' },
        { name: 'read_file', alias: 'read_file_2' },
      ],
    };
    const result = completed(
      await run(
        py`
          await mcp_twins.read_file()
          await mcp_twins.read_file_2()
          await runtime.call_tool("twins", "read_file")
          await runtime.call_tool("twins", "read-file")
          import mcp.servers
          print(mcp.servers.twins.TOOL_MAP["read_file"]["name"])
        `,
        () => ok(textResult('')),
        [twins],
      ),
    );
    expect(result.requests.map((r) => r.payload.tool)).toEqual([
      'read-file',
      'read_file',
      'read_file',
      'read-file',
    ]);
    expect(result.stdout).toBe('read-file\n'); // attribute-style lookups: the alias wins
  });

  it('offers structured content, errors and images as shortcuts on the result', async () => {
    const answer = {
      result: {
        content: [
          { type: 'text', text: 'not json' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
        ],
        structuredContent: { n: 1 },
        isError: true,
      },
    };
    const result = completed(
      await run(
        py`
          r = await runtime.call_tool("memory", "read_graph")
          print(r.data, r.text, r.is_error, [i["mimeType"] for i in r.images])
          try:
              r.raise_for_error()
          except runtime.MCPError as e:
              print("raised:", e)
        `,
        () => ok(answer),
      ),
    );
    expect(result.requests[0]?.payload).toEqual({
      type: 'call_tool',
      server: 'memory',
      tool: 'read_graph',
      arguments: {},
    });
    expect(result.stdout).toBe("{'n': 1} not json True ['image/png']\nraised: not json\n");
  });

  it('has sync variants that block instead of awaiting', async () => {
    const result = completed(
      await run(
        py`
          from mcp import runtime as rt
          import threading
          print(rt.list_servers_sync(), len(rt.list_tools_sync("file_system")))
          print(mcp_file_system.read_file.sync(path="p").text, rt.call_tool_sync("memory", "read_graph").text)
          print(rt.query_tool_docs_sync("memory", "read_graph")["tool"], rt.search_tool_docs_sync("graph"))
          print(len(mcp_memory.list_tools_sync()))
          box = []
          worker = threading.Thread(target=lambda: box.append(mcp_memory.read_graph.sync().text))
          worker.start(); worker.join()
          print(box)
        `,
        (request) => {
          switch (request.payload.type) {
            case 'list_servers':
              return ok({ servers: ['file-system', 'memory'] });
            case 'list_tools':
              return ok({ tools: [{ name: 'a', inputSchema: {} }] });
            case 'call_tool':
              return ok(textResult(`${String(request.payload.tool)} done`));
            case 'query_tool_docs':
              return ok({ docs: [{ server: 'memory', tool: 'read_graph' }] });
            case 'search_tool_docs':
              return ok({ results: [] });
            default:
              return fail('unexpected');
          }
        },
      ),
    );
    expect(result.stdout).toBe(
      "('file-system', 'memory') 1\nread-file done read_graph done\nread_graph []\n1\n" +
        "['read_graph done']\n",
    );
    expect(result.requests.map((r) => r.payload.type)).toEqual([
      'list_servers',
      'list_tools',
      'call_tool',
      'call_tool',
      'query_tool_docs',
      'search_tool_docs',
      'list_tools',
      'call_tool',
    ]);
    expect(result.requests[1]?.payload).toEqual({ type: 'list_tools', server: 'file-system' });
  });

  it('documents each tool for help(): description, parameters and signature', async () => {
    const result = completed(
      await run('help(mcp_file_system.read_file)\nimport mcp.servers\nhelp(mcp.servers.memory)'),
    );
    expect(result.stdout).toContain('async read_file(*, path: str, head: int = ...)');
    expect(result.stdout).toContain('Read the complete contents of a file.');
    expect(result.stdout).toContain('path (string, required): Path of the file');
    expect(result.stdout).toContain('head (integer, optional): Only the first N lines');
    expect(result.stdout).toContain('read_graph()'); // the module lists its functions
    expect(result.stdout).not.toContain('TOOL_MAP'); // but not the metadata constants
  });

  it("raises MCPError with the host's message when a request fails", async () => {
    const result = completed(
      await run(
        py`
          try:
              await mcp_memory.read_graph()
          except runtime.MCPError as e:
              print(type(e).__name__, e)
          try:
              runtime.list_tools_sync("elsewhere")
          except runtime.MCPError as e:
              print(e)
        `,
        (request) => fail(`Server '${String(request.payload.server)}' is not available`),
      ),
    );
    expect(result.stdout).toBe(
      "MCPError Server 'memory' is not available\nServer 'elsewhere' is not available\n",
    );
  });

  it('refuses unknown tools, closest first, without asking the host', async () => {
    const result = completed(
      await run(
        py`
          try:
              mcp_file_system.list_dir
          except runtime.MCPError as e:
              print(e)
          print(hasattr(mcp_file_system, "nope"), getattr(mcp_file_system, "nope", None))
          try:
              await runtime.call_tool("file-system", "red_file", {})
          except AttributeError as e:
              print(e)
        `,
      ),
    );
    expect(result.stdout).toBe(
      "Server 'file-system' has no tool 'list_dir'. Available tools: list_directory, read_file\n" +
        'False None\n' +
        "Server 'file-system' has no tool 'red_file'. Available tools: read_file, list_directory\n",
    );
    expect(result.requests).toEqual([]);
  });

  it('refuses arguments that cannot travel, without asking the host', async () => {
    const result = completed(
      await run(
        py`
          for args in ({"x": {1}}, {"x": float("nan")}, {"x": "a" * 5_000_000}, ["a"]):
              try:
                  await runtime.call_tool("memory", "read_graph", args)
              except runtime.MCPError as e:
                  print(e)
          try:
              await mcp_memory.read_graph("positional")
          except runtime.MCPError as e:
              print(e)
        `,
      ),
    );
    expect(result.stdout.split('\n')).toEqual([
      'the request is not JSON-serialisable: Object of type set is not JSON serializable',
      'the request is not JSON-serialisable: Out of range float values are not JSON compliant',
      expect.stringMatching(/^the request is too large \(5\d{6} bytes; at most 4 MiB\)$/),
      'arguments must be a dict, not list',
      'pass tool arguments by keyword (name=value), or as one dict',
      '',
    ]);
    expect(result.requests).toEqual([]);
  });

  it('queries and searches tool docs with the documented shapes', async () => {
    const doc = {
      server: 'file-system',
      serverAlias: 'file_system',
      tool: 'read-file',
      toolAlias: 'read_file',
    };
    const result = completed(
      await run(
        py`
          docs = await runtime.query_tool_docs("file_system")
          one = await runtime.query_tool_docs("file-system", tool="read_file", detail="full")
          hits = await runtime.search_tool_docs("read a file", limit=100)
          await runtime.search_tool_docs("x", limit=0, detail="full")
          print(type(docs).__name__, len(docs), type(one).__name__, one["toolAlias"], hits[0]["loaded"])
          try:
              await runtime.query_tool_docs("memory", detail="everything")
          except runtime.MCPError as e:
              print(e)
        `,
        (request) =>
          request.payload.type === 'search_tool_docs'
            ? ok({ results: [{ ...doc, loaded: true, score: 0.1 }] })
            : ok({ docs: [doc, doc] }),
      ),
    );
    expect(result.stdout).toBe(
      "list 2 dict read_file True\ndetail must be 'summary' or 'full', not 'everything'\n",
    );
    expect(result.requests.map((r) => r.payload)).toEqual([
      { type: 'query_tool_docs', server: 'file-system', detail: 'summary' },
      { type: 'query_tool_docs', server: 'file-system', tool: 'read-file', detail: 'full' },
      { type: 'search_tool_docs', query: 'read a file', limit: 20, detail: 'summary' },
      { type: 'search_tool_docs', query: 'x', limit: 1, detail: 'full' },
    ]);
  });

  it('returns search hits as a list that names the servers it could not search', async () => {
    const hit = { server: 'memory', tool: 'read_graph', loaded: false, score: 0.5 };
    const skipped = { server: 'barista', reason: 'its tools are not known' };
    // The first answer names a skipped server; the second is malformed there (ignored).
    const answers = [[skipped], 'bad'];
    const result = completed(
      await run(
        py`
          import json
          hits = await runtime.search_tool_docs("graph")
          print(isinstance(hits, list), json.dumps(hits), hits.not_searched)
          print(repr(hits))
          print(runtime.search_tool_docs_sync("graph").not_searched)
        `,
        (request) =>
          request.payload.type === 'search_tool_docs'
            ? ok({ results: [hit], notSearched: answers.shift() })
            : fail('unexpected'),
      ),
    );
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      `True ${JSON.stringify([hit]).replaceAll(',', ', ').replaceAll(':', ': ')} [{'server': 'barista', 'reason': 'its tools are not known'}]`,
    );
    expect(lines[1]).toMatch(
      /^\[\{.*\}\] {2}# not searched \(tools unknown until named in servers\): barista$/,
    );
    expect(lines[2]).toBe('[]');
  });

  it('describes configured and loaded servers from host data, without requests', async () => {
    const result = completed(
      await run(
        py`
          from mcp import runtime
          print(runtime.discovered_servers())
          print(runtime.discovered_servers(detailed=True)[1])
          print(runtime.capability_summary())
          meta = runtime.list_loaded_server_metadata()
          print([m["name"] for m in meta], meta[0]["cwd"], meta[0]["tools"][0]["alias"])
          print(runtime.describe_server("file_system")["loaded"], runtime.describe_server("github"))
          try:
              runtime.describe_server("githb")
          except runtime.MCPError as e:
              print(e)
        `,
      ),
    );
    expect(result.stdout).toBe(
      [
        "('file-system', 'github', 'memory')",
        "{'name': 'github', 'description': 'GitHub API', 'toolCount': 26}",
        'The manual.',
        "['file-system', 'memory'] /data read_file",
        "True {'name': 'github', 'description': 'GitHub API', 'toolCount': 26, 'loaded': False, 'tools': []}",
        "Unknown MCP server 'githb'. Configured servers: github, file-system, memory",
        '',
      ].join('\n'),
    );
    expect(result.requests).toEqual([]);
  });

  it('saves the source of a function defined in an earlier cell', async () => {
    const definition = py`
      if True:
          def greet(name):
              """Say hello.

              Longer text."""
              return f"hello {name}"
    `;
    completed(await run(definition));
    const result = completed(
      await run(
        py`
          print(save_tool(greet))
          for bad in (lambda: 1, print, 42):
              try:
                  save_tool(bad)
              except runtime.MCPError as e:
                  print(e)
          print(runtime.list_saved_tools(), runtime.delete_saved_tool("greet"))
        `,
        (request) => {
          switch (request.payload.type) {
            case 'save_tool':
              return ok({ saved: 'greet' });
            case 'list_saved_tools':
              return ok({ tools: [{ name: 'greet', savedAt: 'now' }] });
            default:
              return ok({ deleted: true });
          }
        },
      ),
    );
    expect(result.requests.map((r) => r.payload)).toEqual([
      {
        type: 'save_tool',
        name: 'greet',
        description: 'Say hello.',
        source:
          definition
            .split('\n')
            .slice(1)
            .map((l) => l.slice(4))
            .join('\n') + '\n',
      },
      { type: 'list_saved_tools' },
      { type: 'delete_saved_tool', name: 'greet' },
    ]);
    expect(result.stdout).toBe(
      [
        'greet',
        'save_tool() cannot save a lambda: define it with `def name(...):`',
        'save_tool() needs a function defined with def, not builtin_function_or_method',
        'save_tool() needs a function defined with def, not int',
        "[{'name': 'greet', 'savedAt': 'now'}] True",
        '',
      ].join('\n'),
    );
  });

  it('loads no saved tools, silently, when the host sent none', async () => {
    const result = completed(await run('import mcp.runtime as _r; _r._load_saved_tools()'));
    expect(result.stdout).toBe('');
  });

  it('refuses to save what would run at load or hide a name, before asking the host', async () => {
    const result = completed(
      await run(
        py`
          def fetch(url: str, timeout: float = 10.0) -> "dict[str, str]":
              return {}
          def slow(x=sum(range(3))):
              return x
          def open(path):
              return path
          @staticmethod
          def wrapped():
              return 1
          for func in (slow, open, wrapped):
              try:
                  save_tool(func)
              except runtime.MCPError as e:
                  print(e)
          print(save_tool(fetch))
        `,
        () => ok({ saved: 'fetch' }),
      ),
    );
    expect(result.requests.map((r) => r.payload)).toEqual([
      {
        type: 'save_tool',
        name: 'fetch',
        source: 'def fetch(url: str, timeout: float = 10.0) -> "dict[str, str]":\n    return {}\n',
      },
    ]);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Cannot save 'slow': the default value of 'x' must be a literal/);
    expect(lines[1]).toMatch(/^Cannot save 'open': 'open' is a Python builtin/);
    expect(lines[2]).toMatch(/^save_tool\(\) needs a function defined with def, not staticmethod/);
    expect(lines[3]).toBe('fetch');
  });

  it('stops a cell waiting on a request that is never answered', async () => {
    for (const call of ['await mcp_memory.read_graph()', 'mcp_memory.read_graph.sync()']) {
      let pending: RpcRequest | undefined;
      const result = await run(`print("waiting")\n${call}`, (request) => {
        pending = request;
        sandbox.send({ type: 'interrupt', id: request.execId });
        return undefined;
      });
      expect(result.done).toMatchObject({ outcome: 'interrupted', exitCode: 130 });
      expect(result.stderr).toMatch(/KeyboardInterrupt\n$/);
      // The host answers after all: dropped with a warning, never delivered.
      if (pending === undefined) throw new Error('no request');
      sandbox.respond(pending, ok(textResult('late')));
      await warning(sandbox, `no pending request ${pending.id}`);
    }
    const after = completed(
      await run('print((await mcp_memory.read_graph()).text)', () => ok(textResult('fresh'))),
    );
    expect(after.stdout).toBe('fresh\n');
  });

  it('never delivers an answer to a later cell', async () => {
    // The request of a task the cell left running fails when the cell ends.
    const first = completed(
      await run(
        'import asyncio\ntask = asyncio.ensure_future(mcp_memory.read_graph())\nawait asyncio.sleep(0)',
        () => undefined,
      ),
    );
    const [left] = first.requests;
    if (left === undefined) throw new Error('no request');
    sandbox.respond(left, ok(textResult('for the first cell')));
    await warning(sandbox, `no pending request ${left.id}`);
    const second = completed(
      await run(
        py`
          try:
              await task
          except runtime.MCPError as e:
              print(e)
          print((await mcp_memory.read_graph()).text)
        `,
        () => ok(textResult('for the second cell')),
      ),
    );
    expect(second.stdout).toBe(
      'the run_python call ended before the host answered\nfor the second cell\n',
    );
  });

  it('resolves 50 concurrent calls answered out of order', async () => {
    const held: RpcRequest[] = [];
    const result = completed(
      await run(
        py`
          import asyncio
          results = await asyncio.gather(*(mcp_memory.read_graph(n=i) for i in range(50)))
          print(all(r.text == f"echo {i}" for i, r in enumerate(results)))
        `,
        (request) => {
          held.push(request);
          if (held.length === 50) {
            // Odd positions backwards, then even ones: nothing in order.
            const order = [
              ...held.filter((_, i) => i % 2 === 1).reverse(),
              ...held.filter((_, i) => i % 2 === 0),
            ];
            for (const r of order) {
              const { n } = r.payload.arguments as { n: number };
              sandbox.respond(r, ok(textResult(`echo ${n}`)));
            }
          }
          return undefined;
        },
      ),
    );
    expect(result.stdout).toBe('True\n');
    expect(new Set(result.requests.map((r) => r.id)).size).toBe(50);
  });

  it('holds requests beyond 64 in flight back until answers arrive', async () => {
    const held: RpcRequest[] = [];
    let seen = 0;
    let mostInFlight = 0;
    const result = completed(
      await run(
        py`
          import asyncio
          results = await asyncio.gather(*(mcp_memory.read_graph(n=i) for i in range(100)))
          print(sorted(r.text for r in results) == sorted(str(i) for i in range(100)))
        `,
        (request) => {
          held.push(request);
          seen += 1;
          mostInFlight = Math.max(mostInFlight, held.length);
          if (held.length === 64 || seen === 100) {
            for (const r of held.splice(0).reverse()) {
              const { n } = r.payload.arguments as { n: number };
              sandbox.respond(r, ok(textResult(String(n))));
            }
          }
          return undefined;
        },
      ),
    );
    expect(result.stdout).toBe('True\n');
    expect(seen).toBe(100);
    expect(mostInFlight).toBe(64);
  });
});

describe('saved tools at sandbox start', () => {
  it('checks each one again, defines the good ones in __main__, reports each step', async () => {
    const tools = [
      ['good', 'def good():\n    """Forty-two."""\n    return 42\n'],
      ['broken', 'def broken(:\n    pass\n'],
      ['raises', 'raise ValueError("boom")\n'],
      ['misnamed', 'def other():\n    return 1\n'],
      ['print', 'def print(*a):\n    pass\n'],
      ['hangs', "def hangs(x=__import__('time').sleep(100)):\n    return x\n"],
      ['later', 'def later(x: Undefined = 1) -> "int":\n    return good() + x\n'],
    ];
    const sandbox = new SandboxProcess();
    try {
      await sandbox.takeType('ready');
      const load = await sandbox.executeWithRpc(
        `import mcp.runtime as _r; _r._load_saved_tools(${JSON.stringify(JSON.stringify(tools))})`,
        () => undefined,
      );
      expect(load.done).toMatchObject({ outcome: 'completed', exitCode: 0 });
      expect(load.stderr).toBe('');
      const reports = load.stdout.trimEnd().split('\n');
      expect(reports.filter((line) => line.startsWith('[saved-tool] loading '))).toHaveLength(7);
      const outcomes = reports.filter((line) => !line.startsWith('[saved-tool] loading '));
      expect(outcomes[0]).toBe('[saved-tool] loaded good');
      expect(outcomes[1]).toMatch(
        /^\[saved-tool\] quarantine broken "its source does not compile: /,
      );
      expect(outcomes[2]).toMatch(
        /^\[saved-tool\] quarantine raises "a saved tool must be a single function definition/,
      );
      expect(outcomes[3]).toBe(
        `[saved-tool] quarantine misnamed "its source defines 'other', not 'misnamed'"`,
      );
      expect(outcomes[4]).toMatch(/^\[saved-tool\] quarantine print "'print' is a Python builtin/);
      expect(outcomes[5]).toMatch(
        /^\[saved-tool\] quarantine hangs "the default value of 'x' must be a literal/,
      );
      expect(outcomes[6]).toBe('[saved-tool] loaded later');
      // Annotations stay text: `Undefined` was never looked up.
      const use = await sandbox.executeWithRpc(
        'import inspect\nprint(good(), later(), later.__annotations__, print is __builtins__.print, save_tool(good))',
        () => ok({ saved: 'good' }),
      );
      expect(use.stdout).toBe("42 43 {'x': 'Undefined', 'return': \"'int'\"} True good\n");
      expect(use.requests[0]?.payload).toEqual({
        type: 'save_tool',
        name: 'good',
        source: tools[0]?.[1],
        description: 'Forty-two.',
      });
    } finally {
      await sandbox.close();
    }
  });

  it('gives up on a tool whose loading outlasts its budget', async () => {
    const sandbox = new SandboxProcess();
    try {
      await sandbox.takeType('ready');
      const result = await sandbox.executeWithRpc(
        py`
          import signal, time
          from mcp import _saved
          before = signal.getsignal(signal.SIGALRM)
          try:
              with _saved._budget(0.2):
                  time.sleep(30)
          except _saved._TooSlow:
              print("too slow")
          with _saved._budget(5):
              pass
          # Nothing is left armed: no timer, the handler as it was.
          print(signal.getitimer(signal.ITIMER_REAL), signal.getsignal(signal.SIGALRM) is before)
        `,
        () => undefined,
      );
      expect(result.done).toMatchObject({ outcome: 'completed' });
      expect(result.stdout).toBe('too slow\n(0.0, 0.0) True\n');
    } finally {
      await sandbox.close();
    }
  });
});
