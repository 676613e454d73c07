import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { auditCli, auditScratch } from '../support/audit-fixtures.js';
import { describeEachEngine } from '../support/engines.js';
import { expectSessionKept, setMarker } from '../support/session-marker.js';

/**
 * The sandbox against the audit trail: huge arguments are kept as size and digest (and,
 * with MCP_BRIDGE_AUDIT_ARGS=1, cut to 64 KiB), a flood of calls leaves the table at its
 * bound, and hostile limits to runtime.calls() are refused with a clear error.
 */

const MAX = 100;

interface Row {
  tool: string;
  outcome: string;
  argumentBytes: number;
  arguments: string | null;
}

describeEachEngine('the audit trail under attack', (engine) => {
  let bridge: BridgeHandle;
  let scratch: string;
  let stateDir: string;

  const rows = async (): Promise<Row[]> => {
    const listed = await auditCli(stateDir, ['--json', '--limit', '10000']);
    expect(listed.code, listed.stderr).toBe(0);
    return listed.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row);
  };

  beforeAll(async () => {
    ({ scratch, stateDir } = auditScratch());
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      stateDir,
      env: { MCP_BRIDGE_AUDIT_MAX: String(MAX), MCP_BRIDGE_AUDIT_ARGS: '1' },
    });
    await setMarker(bridge, 'kept');
  });
  afterAll(async () => {
    await bridge?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('keeps huge arguments as size and digest, and at most 64 KiB of them', async () => {
    const result = await bridge.run({
      servers: ['everything'],
      code: String.raw`
import hashlib, json
from mcp import runtime
big = "x" * 900_000
await mcp_everything.echo(message=big)
try:
    await runtime.call_tool("everything", "echo", {"message": "y" * 2_000_000})
except runtime.MCPError as error:
    print("refused:", str(error)[:80])
calls = runtime.calls(2)
digest = hashlib.sha256(json.dumps({"message": big}, separators=(",", ":")).encode()).hexdigest()
print("JSON " + json.dumps({
    "outcomes": [c["outcome"] for c in calls],
    "bytes": [c["argumentBytes"] for c in calls],
    "digest_matches": calls[1]["argumentSha256"] == digest,
    "keys": sorted(calls[0]),
}))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<{
      outcomes: string[];
      bytes: number[];
      digest_matches: boolean;
      keys: string[];
    }>(result);
    expect(seen.outcomes).toEqual(['refused', 'ok']);
    expect(seen.bytes).toEqual([2_000_000 + 14, 900_000 + 14]);
    expect(seen.digest_matches).toBe(true);
    // The sandbox reads no arguments back, only size and digest.
    expect(seen.keys).not.toContain('arguments');
    const stored = (await rows()).slice(-2);
    for (const row of stored) {
      expect(Buffer.byteLength(row.arguments ?? '')).toBeLessThan(64 * 1024 + 100);
      expect(row.arguments).toMatch(/… \[cut: \d+ bytes in all\]$/);
    }
    await expectSessionKept(bridge, 'kept');
  });

  it('stays at its bound after 10,000 calls', async () => {
    const flood = (from: number) => String.raw`
import asyncio
for start in range(${from}, ${from} + 5000, 250):
    await asyncio.gather(*[mcp_everything.echo(message=str(i)) for i in range(start, start + 250)])
print("done")
`;
    for (const from of [0, 5000]) {
      const result = await bridge.run(
        { servers: ['everything'], code: flood(from), timeout: 120 },
        180_000,
      );
      expect(statusOf(result), describeResult(result)).toBe('success');
    }
    const check = await bridge.run({
      code: 'from mcp import runtime\nimport json\nprint("JSON " + json.dumps(len(runtime.calls(1000))))',
    });
    expect(printedJson<number>(check)).toBe(MAX);
    expect(await rows()).toHaveLength(MAX);
    await expectSessionKept(bridge, 'kept');
  }, 400_000);

  it("a sandbox's calls() holds only its own bridge's calls, on a shared state dir", async () => {
    const other = await startBridge({ dockerHost: engine.dockerHost, stateDir });
    try {
      const theirs = await other.run({
        servers: ['everything'],
        code: 'await mcp_everything.echo(message="THEIRS")',
      });
      expect(statusOf(theirs), describeResult(theirs)).toBe('success');
      const read =
        'from mcp import runtime\nimport json\nprint("JSON " + json.dumps(runtime.calls(1000)))';
      const fromOther = printedJson<{ argumentBytes: number }[]>(await other.run({ code: read }));
      expect(fromOther).toHaveLength(1);
      expect(fromOther[0]?.argumentBytes).toBe('{"message":"THEIRS"}'.length);
      const fromFirst = printedJson<{ argumentBytes: number }[]>(await bridge.run({ code: read }));
      expect(fromFirst.map((entry) => entry.argumentBytes)).not.toContain(
        '{"message":"THEIRS"}'.length,
      );
      // The host sees every bridge's calls (this one stores no arguments: size only).
      const hostRows = await rows();
      expect(
        hostRows.some(
          (row) => row.argumentBytes === '{"message":"THEIRS"}'.length && row.arguments === null,
        ),
      ).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('refuses hostile limits (-1, 1e9, "x", True) with a clear error, also past the Python check', async () => {
    const result = await bridge.run({
      code: String.raw`
import json
from mcp import runtime
from mcp._rpc import request_sync
seen = {}
for limit in (-1, 0, 10**9, 1e9, "x", True, None):
    try:
        runtime.calls(limit)
        seen[repr(limit)] = "answered"
    except Exception as error:
        seen[repr(limit)] = type(error).__name__ + ": " + str(error)
for limit in (-1, 10**9, "x", 1.5):
    try:
        request_sync({"type": "calls", "limit": limit})
        seen["raw " + repr(limit)] = "answered"
    except Exception as error:
        seen["raw " + repr(limit)] = type(error).__name__ + ": " + str(error)
print("JSON " + json.dumps(seen))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<Record<string, string>>(result);
    for (const limit of ['-1', '0', '1000000000', '1000000000.0', "'x'", 'True', 'None']) {
      expect(seen[limit]).toMatch(/^ValueError: limit must be a whole number from 1 to 1000, got /);
    }
    for (const limit of ['raw -1', 'raw 1000000000', "raw 'x'", 'raw 1.5']) {
      expect(seen[limit]).toMatch(/^MCPError: .*Invalid 'calls' request: limit/);
    }
    await expectSessionKept(bridge, 'kept');
  });
});
