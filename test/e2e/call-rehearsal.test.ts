import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import {
  describeResult,
  logLines,
  payloadOf,
  startBridge,
  waitFor,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * At pre-warm, once the sandbox is up, the bridge runs one synthetic run_python through
 * the path a real call takes (src/server/call-rehearsal.ts). It must leave nothing a user,
 * the agent or the sandbox can see: no history record, no audit row, no artifact, no
 * message on the MCP channel, no variable or `_` in the session, no output carried over,
 * and the agent's first call runs as if nothing had run before it.
 */

/** Rows of a table in the bridge's history file (0 when the table does not exist). */
function rowCount(stateDir: string, table: 'executions' | 'proxied_calls'): number {
  const db = new Database(path.join(stateDir, 'history.sqlite3'), { readonly: true });
  try {
    const exists = db
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
      .pluck()
      .get(table);
    if (exists === 0) return 0;
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** What the first cell prints: the session's names, and whether `_` exists. */
const PROBE = [
  'print(sorted(k for k in globals() if not k.startswith("__")))',
  'try:',
  '    _',
  'except NameError:',
  '    print("no _")',
].join('\n');

describeEachEngine('the call rehearsal at pre-warm', (engine) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  });

  it('runs once the sandbox is up and leaves nothing anyone can see', async () => {
    const bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { MCP_BRIDGE_LOG_LEVEL: 'info' },
    });
    cleanups.push(() => bridge.close());
    // Anything the bridge sends unasked (a response to the rehearsal's request id, a
    // progress or other notification) reaches one of these.
    const unexpected: string[] = [];
    bridge.client.onerror = (error) => unexpected.push(`error: ${error.message}`);
    bridge.client.fallbackNotificationHandler = (notification) => {
      unexpected.push(`notification: ${notification.method}`);
      return Promise.resolve();
    };

    const rehearsed = await waitFor(
      () => logLines(bridge).some((line) => line.msg === 'first call rehearsed'),
      60_000,
      20,
    );
    expect(rehearsed, bridge.stderr().slice(-2000)).toBe(true);
    expect(logLines(bridge).find((line) => line.msg === 'first call rehearsed')?.ms).toEqual(
      expect.any(Number),
    );
    // Nothing recorded, nothing returned as a file.
    expect(rowCount(bridge.stateDir, 'executions')).toBe(0);
    expect(rowCount(bridge.stateDir, 'proxied_calls')).toBe(0);
    const { resources } = await bridge.client.listResources();
    expect(resources.filter((resource) => resource.uri.startsWith('artifact://'))).toEqual([]);

    // The agent's first call finds a session in which nothing ran: no variable, no `_`, no
    // output of the rehearsal's cell, no notice.
    const first = await bridge.run({ code: PROBE });
    const payload = payloadOf(first);
    // Only the names the runner puts in every cell's namespace (the MCP helpers).
    expect(payload.stdout, describeResult(first)).toEqual([
      "['LOADED_MCP_SERVERS', 'mcp_servers', 'runtime', 'save_tool']",
      'no _',
    ]);
    expect(payload.stderr ?? []).toEqual([]);
    expect(payload.notices ?? []).toEqual([]);

    // The history holds the agent's call alone, which the sandbox reads back as the only one.
    expect(rowCount(bridge.stateDir, 'executions')).toBe(1);
    const history = await bridge.run({
      code: [
        'from mcp import runtime',
        'entries = runtime.history()',
        `print(len(entries), entries[0]["code"] == ${JSON.stringify(PROBE)})`,
        'print(runtime.calls())',
      ].join('\n'),
    });
    expect(payloadOf(history).stdout, describeResult(history)).toEqual(['1 True', '[]']);
    expect(rowCount(bridge.stateDir, 'proxied_calls')).toBe(0);
    expect(unexpected).toEqual([]);
  });
});
