import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBridge, type BridgeHandle } from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * The Python-executor toolset (MCP_BRIDGE_TOOLS=executor): the seed's six tools and JSON
 * shapes, sharing the run_python session; history that survives a bridge restart; the
 * safety check enforced, and what it flags still contained by the container when run.
 */

async function call(
  bridge: BridgeHandle,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ result: CallToolResult; json: Record<string, unknown> }> {
  const result = CallToolResultSchema.parse(
    await bridge.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 }),
  );
  const json: Record<string, unknown> = result.structuredContent ?? {};
  return { result, json };
}

describeEachEngine('executor toolset', (engine) => {
  let stateDir: string;
  let bridge: BridgeHandle;
  const env = { MCP_BRIDGE_TOOLS: 'executor' };

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-executor-'));
    bridge = await startBridge({ dockerHost: engine.dockerHost, env, stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lists run_python and the six executor tools', async () => {
    const { tools } = await bridge.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'check_code_safety',
      'clear_execution_history',
      'execute_python_code',
      'get_execution_history',
      'install_python_package',
      'list_installed_packages',
      'run_python',
    ]);
  });

  it('executes code with the seed result shape, in the same session as run_python', async () => {
    await bridge.run({ code: 'shared = 20' });
    const { result, json } = await call(bridge, 'execute_python_code', {
      code: 'print(shared + 22)',
    });
    expect(result.isError).toBe(false);
    expect(json).toMatchObject({ success: true, stdout: '42\n', return_code: 0 });
    expect(json.execution_id).toMatch(/^exec_/);
    expect(typeof json.execution_time).toBe('number');
    expect(Date.parse(String(json.completed_at))).toBeGreaterThanOrEqual(
      Date.parse(String(json.executed_at)),
    );
    const failed = await call(bridge, 'execute_python_code', { code: 'raise ValueError("no")' });
    expect(failed.json).toMatchObject({ success: false, return_code: 1 });
    expect(String(failed.json.stderr)).toContain('ValueError: no');
  });

  it('checks safety, refuses unsafe code unless allowed, and the container still contains it', async () => {
    const safe = await call(bridge, 'check_code_safety', { code: 'print(sum(range(10)))' });
    expect(safe.json).toMatchObject({ is_safe: true, warnings: [] });
    const payload = "import os\nos.system('id > /workspace/owned')";
    const report = await call(bridge, 'check_code_safety', { code: payload });
    expect(report.json.is_safe).toBe(false);
    expect((report.json.warnings as string[]).join('\n')).toMatch(/os/);
    // Full-width letters: Python reads ｅｖａｌ as eval.
    const lookalike = await call(bridge, 'check_code_safety', { code: "ｅｖａｌ('1+1')" });
    expect(lookalike.json.is_safe).toBe(false);

    const refused = await call(bridge, 'execute_python_code', { code: payload });
    expect(refused.json).toMatchObject({ success: false });
    expect(String(refused.json.stderr)).toMatch(/safety check/i);
    const notRun = await bridge.run({
      code: "import os\nprint(os.path.exists('/workspace/owned'))",
    });
    expect(notRun.structuredContent).toMatchObject({ stdout: ['False'] });

    // Allowed to run, the same kind of payload meets the container's limits instead.
    const escape =
      'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.unshare(0x10000000), ctypes.get_errno())\nprint(os.getuid())';
    const allowed = await call(bridge, 'execute_python_code', { code: escape, allow_unsafe: true });
    expect(allowed.json).toMatchObject({ success: true, stdout: '-1 1\n65534\n' });
  });

  it('keeps history across a bridge restart, newest first, and clears it', async () => {
    await call(bridge, 'execute_python_code', { code: 'print("remember me")' });
    const inSandbox = await bridge.run({
      code: 'from mcp import runtime\nprint(runtime.history(limit=2)[0]["code"])',
    });
    expect(inSandbox.structuredContent).toMatchObject({ stdout: ['print("remember me")'] });
    const before = await call(bridge, 'get_execution_history', { limit: 50 });
    const history = before.json.history as { code: string; success: boolean }[];
    expect(history[0]?.code).toContain('runtime.history(limit=2)');
    expect(history[1]).toMatchObject({ code: 'print("remember me")', success: true });
    expect(history.some((entry) => entry.code === 'shared = 20')).toBe(true);

    await bridge.close();
    bridge = await startBridge({ dockerHost: engine.dockerHost, env, stateDir });
    const after = await call(bridge, 'get_execution_history', { limit: 50 });
    expect(after.json.history).toEqual(before.json.history);
    expect(after.json.total_count).toBe(before.json.total_count);

    const cleared = await call(bridge, 'clear_execution_history');
    expect(cleared.json.cleared_count).toBe(before.json.total_count);
    const empty = await call(bridge, 'get_execution_history');
    expect(empty.json).toMatchObject({ history: [], total_count: 0 });
  });

  it("answers package tools with the seed's field names only", async () => {
    // Not on the allow-list: refused by policy before any installer container starts.
    const refused = await call(bridge, 'install_python_package', {
      package_name: 'not-on-the-allowlist-pkg',
    });
    expect(refused.result.isError).toBe(true);
    expect(Object.keys(refused.json).sort()).toEqual([
      'installed_at',
      'message',
      'package_name',
      'success',
    ]);
    expect(refused.json).toMatchObject({
      package_name: 'not-on-the-allowlist-pkg',
      success: false,
    });
    expect(Date.parse(String(refused.json.installed_at))).not.toBeNaN();
    const listed = await call(bridge, 'list_installed_packages');
    expect(Object.keys(listed.json).sort()).toEqual(['packages', 'retrieved_at', 'total_count']);
  });

  it('answers bad arguments with a clear error and keeps working', async () => {
    const missing = await call(bridge, 'execute_python_code', {});
    expect(missing.result.isError).toBe(true);
    expect(missing.json.error).toBe("Missing 'code' argument");
    const next = await call(bridge, 'execute_python_code', { code: 'print(1)' });
    expect(next.json).toMatchObject({ success: true, stdout: '1\n' });
  });
});
