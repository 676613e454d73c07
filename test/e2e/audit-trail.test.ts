import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { auditCli, auditScratch } from '../support/audit-fixtures.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * The audit trail: every MCP tool call the sandbox makes through the bridge is recorded
 * (real server-everything, real container, the built bridge over stdio), read back with
 * `runtime.calls()` in the sandbox and `audit` on the host.
 */

interface SandboxCall {
  at: string;
  session: string;
  server: string;
  tool: string;
  argumentBytes: number;
  argumentSha256: string;
  outcome: string;
  message: string | null;
  durationMs: number;
  approval: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describeEachEngine('audit trail of proxied calls', (engine) => {
  let bridge: BridgeHandle;
  let scratch: string;
  let stateDir: string;

  beforeAll(async () => {
    ({ scratch, stateDir } = auditScratch());
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('records ok, error and refused calls, and runtime.calls() reads them back', async () => {
    const result = await bridge.run({
      servers: ['everything'],
      code: String.raw`
import json
from mcp import runtime
await mcp_everything.echo(message="hello audit")
try:
    await runtime.call_tool("everything", "echo", {"message": 5})
except runtime.MCPError as error:
    pass
try:
    await runtime.call_tool("spare", "anything", {"b": 2})
except runtime.MCPError as error:
    pass
print("JSON " + json.dumps(runtime.calls(3)))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const calls = printedJson<SandboxCall[]>(result);
    expect(calls.map((call) => [call.server, call.tool, call.outcome])).toEqual([
      ['spare', 'anything', 'refused'],
      ['everything', 'echo', 'error'],
      ['everything', 'echo', 'ok'],
    ]);
    const [refused, failed, ok] = calls;
    expect(refused?.message).toMatch(/Server 'spare' is not available/);
    expect(failed?.message).toMatch(/message|string|invalid/i);
    expect(ok).toMatchObject({
      session: 'default',
      argumentBytes: Buffer.byteLength('{"message":"hello audit"}'),
      argumentSha256: sha256('{"message":"hello audit"}'),
      message: null,
      approval: 'none',
    });
    expect(ok?.durationMs).toBeGreaterThan(0);
    expect(Date.parse(ok?.at ?? '')).not.toBeNaN();
  });

  it('prints the trail on the host with audit, filtered by --since, --session and --limit', async () => {
    const all = await auditCli(stateDir, ['--json']);
    expect(all.code, all.stderr).toBe(0);
    const rows = all.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { tool: string; outcome: string; arguments: unknown });
    expect(rows.map((row) => row.tool)).toEqual(['echo', 'echo', 'anything']);
    // Size and digest only, unless MCP_BRIDGE_AUDIT_ARGS=1.
    expect(rows.every((row) => row.arguments === null)).toBe(true);

    const table = await auditCli(stateDir, [
      '--since',
      '1h',
      '--session',
      'default',
      '--limit',
      '2',
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME {2}SESSION/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/ default {2}everything\.echo {2}error {2}/),
      expect.stringMatching(/ default {2}spare\.anything {2}refused {2}.*not available/),
    ]);
    const future = await auditCli(stateDir, ['--since', '2999-01-01T00:00Z']);
    expect(future.stdout).toMatch(/No proxied calls recorded/);
    const otherSession = await auditCli(stateDir, ['--session', 'other']);
    expect(otherSession.stdout).toMatch(/No proxied calls recorded/);
  });

  it("records a named session's calls under its name; calls() there shows only its own", async () => {
    const result = await bridge.run({
      servers: ['everything'],
      session: 'audited',
      code: String.raw`
import json
from mcp import runtime
await mcp_everything.echo(message="from audited")
print("JSON " + json.dumps(runtime.calls(1000)))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const calls = printedJson<SandboxCall[]>(result);
    expect(calls.map((call) => [call.session, call.tool, call.outcome])).toEqual([
      ['audited', 'echo', 'ok'],
    ]);
    // Rows reach the file a moment after the call (batched): poll for them.
    const onHost = async () => {
      const host = await auditCli(stateDir, ['--json', '--session', 'audited']);
      return host.stdout.includes('"tool":"echo"') && host.stdout.includes('"session":"audited"');
    };
    expect(await waitFor(onHost, 10_000, 200)).toBe(true);
  });

  it('refuses bad CLI options with a clear message and status 2', async () => {
    for (const args of [
      ['--limit', '-1'],
      ['--limit', '1e9'],
      ['--limit', 'x'],
      ['--since', 'yesterday'],
      ['--session', '../x'],
      ['--bogus'],
    ]) {
      const bad = await auditCli(stateDir, args);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/Usage: mcp-server-code-execution-mode audit/);
    }
  });
});
