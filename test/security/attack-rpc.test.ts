import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  procStatusBytes,
  REPO_ROOT,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { FORGE_RPC } from '../support/forged-rpc.js';
import { expectSessionKept, setMarker } from '../support/session-marker.js';

/** expect.stringMatching, typed for use inside an expected object. */
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);

/**
 * User code abusing the sandbox's requests to the bridge: oversized and deeply nested
 * arguments, a flood of requests, and every way around a call's allow-list, through the
 * `mcp` package and by writing frames onto the channel itself. server-everything is the
 * server the calls may use; server-memory is configured but never allowed, and its file
 * on the host shows whether anything reached it.
 */

const MiB = 1024 * 1024;

const serverBin = (name: string) =>
  path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol', name, 'dist/index.js');

describeEachEngine('attacks through the RPC channel', (engine) => {
  let bridge: BridgeHandle;
  let scratch: string;
  let memoryFile: string;

  /** What reached server-memory on the host, if anything. */
  const memoryContents = () => (existsSync(memoryFile) ? readFileSync(memoryFile, 'utf8') : '');

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'attack-rpc-'));
    const stateDir = path.join(scratch, 'state');
    mkdirSync(stateDir);
    memoryFile = path.join(scratch, 'memory.jsonl');
    const node = process.execPath;
    const config = {
      mcpServers: {
        everything: { command: node, args: [serverBin('server-everything')] },
        memory: {
          command: node,
          args: [serverBin('server-memory')],
          env: { MEMORY_FILE_PATH: memoryFile },
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

  /** Runs `code` with server-everything loaded; expects success; returns what it printed. */
  async function runEverything<T>(code: string, timeout = 60): Promise<T> {
    const result = await bridge.run({ code, servers: ['everything'], timeout }, 180_000);
    expect(statusOf(result), describeResult(result).slice(0, 3000)).toBe('success');
    return printedJson<T>(result);
  }

  it('refuses 50 MB and 3 MiB arguments and drops a 50 MB forged line, with bounded bridge memory', async () => {
    await setMarker(bridge, 'before the huge arguments');
    const rssBefore = procStatusBytes(bridge.pid, 'VmRSS');
    const report = await runEverything<Record<string, string>>(
      FORGE_RPC +
        String.raw`
from mcp import runtime
report = {}
async def attempt(label, **arguments):
    try:
        result = await mcp_everything.echo(**arguments)
        report[label] = "echoed %d characters" % len(result.text)
    except runtime.MCPError as error:
        report[label] = "refused: " + str(error)
await attempt("50 MB", message="x" * (50 * 1024 * 1024))
await attempt("3 MiB", message="y" * (3 * 1024 * 1024))
# Past the runner's own check: a 50 MB request line written onto the channel.
forge_line(b'{"type":"rpc_request","id":999999999,"execId":%d,"payload":{"type":"call_tool","server":"everything","tool":"echo","arguments":{"message":"' % calls._cell + b"z" * (50 * 1024 * 1024) + b'"}}}\n')
# The channel is still in step: the next request is answered.
await attempt("after the forged line", message="still here")
print("JSON " + json.dumps(report))
`,
    );
    expect(report['50 MB']).toMatch(
      /^refused: the request is too large \(\d+ bytes; at most 4 MiB\)$/,
    );
    expect(report['3 MiB']).toMatch(
      /^refused: The arguments for 'echo' are \d+ bytes of JSON; the limit is 1048576\.$/,
    );
    expect(report['after the forged line']).toBe('echoed 16 characters');
    // The bridge skipped the forged line as it streamed past: none of it was kept.
    expect(procStatusBytes(bridge.pid, 'VmRSS') - rssBefore).toBeLessThan(64 * MiB);
    await expectSessionKept(bridge, 'before the huge arguments');
  });

  it('refuses 100,000 levels of nesting, from the runtime and forged onto the channel', async () => {
    await setMarker(bridge, 'before the deep nesting');
    const report = await runEverything<Record<string, string>>(
      FORGE_RPC +
        String.raw`
from mcp import runtime
report = {}
deep = []
for _ in range(100_000):
    deep = [deep]
try:
    await runtime.call_tool("everything", "echo", {"message": deep})
    report["from the runtime"] = "sent"
except runtime.MCPError as error:
    report["from the runtime"] = "refused: " + str(error)[:60]
# The same depth as raw JSON, which Python never has to build: 200 kB of brackets.
request_id = next(forged_ids)
nested = "[" * 100_000 + "]" * 100_000
line = ('{"type":"rpc_request","id":%d,"execId":%d,"payload":{"type":"call_tool","server":"everything","tool":"echo","arguments":{"message":%s}}}\n' % (request_id, calls._cell, nested)).encode()
answer = Future()
with calls._lock:
    calls._waiting[request_id] = _Request(request_id, calls._cell, line, answer)
forge_line(line)
reply = answer.result(timeout=30)
report["forged"] = "refused: " + reply["error"][:60] if not reply.get("success") else "answered"
moderate = []
for _ in range(200):
    moderate = [moderate]
result = await runtime.call_tool("everything", "echo", {"message": moderate})
report["200 levels"] = "tool error" if result.is_error else "echoed"
print("JSON " + json.dumps(report))
`,
    );
    expect(report).toEqual({
      'from the runtime': matching(
        /^refused: the request is not JSON-serialisable: maximum recursion/,
      ),
      forged: matching(/^refused: Maximum call stack size exceeded/),
      // server-everything checks its own arguments: a tool error, not a crash.
      '200 levels': 'tool error',
    });
    await expectSessionKept(bridge, 'before the deep nesting');
  });

  it('answers 10,000 requests in one call and refuses the 10,001st; the next call may ask again', async () => {
    await setMarker(bridge, 'before the 10,000 requests');
    const report = await runEverything<Record<string, unknown>>(
      String.raw`
import asyncio, json
from mcp import runtime
answers = await asyncio.gather(*(runtime.list_servers() for _ in range(10_000)), return_exceptions=True)
report = {"answered": sum(1 for a in answers if a == ("everything",)),
          "failed": sorted({str(a) for a in answers if isinstance(a, Exception)})}
try:
    await mcp_everything.echo(message="one too many")
    report["10,001st"] = "answered"
except runtime.MCPError as error:
    report["10,001st"] = str(error)
print("JSON " + json.dumps(report))
`,
      120,
    );
    expect(report).toEqual({
      answered: 10_000,
      failed: [],
      '10,001st': 'Too many MCP requests in one call (limit 10000); split the work across calls.',
    });
    const next = await runEverything<string>(
      'import json\nprint("JSON " + json.dumps((await mcp_everything.echo(message="again")).text))',
    );
    expect(next).toBe('Echo: again');
    await expectSessionKept(bridge, 'before the 10,000 requests');
  });

  it('reaches no server outside the call through any function of the mcp package', async () => {
    await setMarker(bridge, 'before the allow-list');
    const report = await runEverything<Record<string, string>>(
      String.raw`
import importlib, json, threading
from mcp import runtime
entity = {"entities": [{"name": "Mallory", "entityType": "person", "observations": ["was here"]}]}
report = {}
def attempt(label, call):
    try:
        result = call()
        if hasattr(result, "__await__"):
            raise TypeError("awaitable")
        report[label] = "allowed: %r" % (result,)
    except Exception as error:
        report[label] = "%s: %s" % (type(error).__name__, error)
async def attempt_async(label, coroutine):
    try:
        report[label] = "allowed: %r" % ((await coroutine),)
    except Exception as error:
        report[label] = "%s: %s" % (type(error).__name__, error)
await attempt_async("call_tool", runtime.call_tool("memory", "create_entities", entity))
attempt("call_tool_sync", lambda: runtime.call_tool_sync("memory", "create_entities", entity))
await attempt_async("list_tools", runtime.list_tools("memory"))
attempt("list_tools_sync", lambda: runtime.list_tools_sync("memory"))
attempt("list_servers_sync", lambda: runtime.list_servers_sync())
attempt("import mcp.servers.memory", lambda: importlib.import_module("mcp.servers.memory"))
attempt("mcp_servers['memory']", lambda: mcp_servers["memory"])
attempt("mcp_memory", lambda: mcp_memory)
# Docs of servers outside the call come from the host's catalog, which never starts
# them: this one has not run yet, so there is nothing to read.
attempt("query_tool_docs", lambda: runtime.query_tool_docs_sync("memory", tool="create_entities"))
# A thread asks too: its requests count for this call, and this call has no 'memory'.
thread = threading.Thread(target=lambda: attempt("from a thread", lambda: runtime.call_tool_sync("memory", "read_graph", {})))
thread.start()
thread.join()
print("JSON " + json.dumps(report))
`,
    );
    const refused = "MCPError: Server 'memory' is not available";
    expect(report).toEqual({
      call_tool: refused,
      call_tool_sync: refused,
      list_tools: refused,
      list_tools_sync: refused,
      list_servers_sync: "allowed: ('everything',)",
      'import mcp.servers.memory': "ModuleNotFoundError: No module named 'mcp.servers.memory'",
      "mcp_servers['memory']": "KeyError: 'memory'",
      mcp_memory: "NameError: name 'mcp_memory' is not defined",
      query_tool_docs: refused,
      'from a thread': refused,
    });
    expect(memoryContents()).not.toContain('Mallory');
    await expectSessionKept(bridge, 'before the allow-list');
  });

  it('cannot reuse an earlier call’s proxies, nor reach a server by a look-alike name', async () => {
    // A call that may use 'memory' keeps its proxy and functions around.
    const first = await bridge.run({
      code: 'stale = mcp_memory\nstale_create = mcp_memory.create_entities\nprint(await stale.list_tools() != [])',
      servers: ['memory'],
    });
    expect(payloadOf(first).stdout, describeResult(first)).toEqual(['True']);
    const report = await runEverything<Record<string, string>>(
      String.raw`
import json
from mcp import runtime
entity = {"name": "Mallory", "entityType": "person", "observations": ["was here"]}
report = {}
async def attempt(label, coroutine):
    try:
        await coroutine
        report[label] = "allowed"
    except Exception as error:
        report[label] = "%s: %s" % (type(error).__name__, error)
await attempt("stale proxy", stale.create_entities(entities=[entity]))
await attempt("stale function", stale_create(entities=[entity]))
for name in ("ｍｅｍｏｒｙ", "memorу", "memory\u200b", "MEMORY", " memory", "memory\x00", "mem\u043ery"):
    await attempt(ascii(name), runtime.call_tool(name, "create_entities", {"entities": [entity]}))
await attempt("look-alike tool", runtime.call_tool("everything", "ｅｃｈｏ", {"message": "x"}))
print("JSON " + json.dumps(report))
`,
    );
    const refused = (name: string) => `MCPError: Server '${name}' is not available`;
    expect(report).toEqual({
      'stale proxy': refused('memory'),
      'stale function': refused('memory'),
      "'\\uff4d\\uff45\\uff4d\\uff4f\\uff52\\uff59'": refused('ｍｅｍｏｒｙ'),
      "'memor\\u0443'": refused('memorу'),
      "'memory\\u200b'": refused('memory\u200b'),
      "'MEMORY'": refused('MEMORY'),
      "' memory'": refused(' memory'),
      "'memory\\x00'": refused('memory\u0000'),
      "'mem\\u043ery'": refused('mem\u043ery'),
      'look-alike tool': matching(/^UnknownToolError: Server 'everything' has no tool 'ｅｃｈｏ'/),
    });
    // Nor can a call name them: servers are matched exactly, before anything runs.
    for (const name of ['ｍｅｍｏｒｙ', 'memorу', 'memory\u200b', 'Memory']) {
      const refusedCall = await bridge.run({ code: 'print("ran")', servers: [name] });
      expect(payloadOf(refusedCall).status, describeResult(refusedCall)).toBe('validation_error');
      expect(payloadOf(refusedCall).stdout ?? []).toEqual([]);
    }
    expect(memoryContents()).not.toContain('Mallory');
  });

  it('is refused when it forges request frames naming another server or another call', async () => {
    await setMarker(bridge, 'before the forged frames');
    const report = await runEverything<Record<string, unknown>>(
      FORGE_RPC +
        String.raw`
entity = {"name": "Mallory", "entityType": "person", "observations": ["was here"]}
call = {"type": "call_tool", "server": "memory", "tool": "create_entities", "arguments": {"entities": [entity]}}
report = {
    "this call, memory": forge({"payload": call}),
    "an ended call": forge({"payload": call}, exec_id=calls._cell - 1),
    "a later call": forge({"payload": call}, exec_id=calls._cell + 1),
    "list_tools memory": forge({"payload": {"type": "list_tools", "server": "memory"}}),
    "server as a list": forge({"payload": {**call, "server": ["everything", "memory"]}}),
    "server with extra fields": forge({"payload": {**call, "servers": ["memory"], "allowed": True}}),
    "unknown request type": forge({"payload": {"type": "call_any_server", "server": "memory"}}),
    "the allowed server": forge({"payload": {"type": "call_tool", "server": "everything", "tool": "echo", "arguments": {"message": "forged but allowed"}}}),
}
report["the allowed server"] = report["the allowed server"]["result"]["content"][0]["text"]
print("JSON " + json.dumps(report))
`,
    );
    expect(report).toEqual({
      'this call, memory': "refused: Server 'memory' is not available",
      'an ended call': 'refused: The call that sent this request has ended.',
      'a later call': 'refused: The call that sent this request has ended.',
      'list_tools memory': "refused: Server 'memory' is not available",
      'server as a list': matching(/^refused: Invalid 'call_tool' request: server /),
      'server with extra fields': "refused: Server 'memory' is not available",
      'unknown request type': matching(/^refused: Invalid 'call_any_server' request/),
      'the allowed server': 'Echo: forged but allowed',
    });
    expect(memoryContents()).not.toContain('Mallory');
    await expectSessionKept(bridge, 'before the forged frames');
  });
});
