import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import {
  approvalScene,
  callsCode,
  ScriptedPerson,
  startApprovalBridge,
  type ApprovalScene,
  type CallsOutcome,
} from '../support/approval-fixtures.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * Approvals for proxied calls, end to end: the built bridge, a real container, the real
 * SDK client answering elicitation as a scripted person, and a real MCP server with
 * annotated tools that notes every call it receives (test/fixtures/annotated-server.mjs).
 * Policy: deny `rm_*`; ask `echo_loud`, `rm_*`; allow `*_cache`, `rm_*`, `echo*`.
 */

const servers = ['annotated'];

describeEachEngine('approvals with a client that can be asked', (engine) => {
  const person = new ScriptedPerson();
  let scene: ApprovalScene;
  let bridge: BridgeHandle;

  beforeAll(async () => {
    scene = approvalScene();
    bridge = await startApprovalBridge(engine, scene, {
      person,
      env: { MCP_BRIDGE_APPROVAL_TIMEOUT: '3' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
    scene?.close();
  });

  const run = async (tools: string[], timeoutSeconds = 30): Promise<CallsOutcome> => {
    const result = await bridge.run({
      servers,
      code: callsCode(tools),
      timeout: timeoutSeconds,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return printedJson<CallsOutcome>(result);
  };

  it('follows the policy: deny never reaches the server, allow and read-only run unasked', async () => {
    const before = person.prompts.length;
    const seen = await run(['rm_all', 'purge_cache', 'echo', 'read_item']);
    expect(seen.outcomes[0]).toMatch(/^error: denied: .*rm_all.*deny pattern `rm_\*`/);
    expect(seen.outcomes.slice(1)).toEqual(['purge_cache 1', 'echo 1', 'read_item 1']);
    expect(seen.approvals).toEqual(['denied', 'allowed', 'allowed', 'none']);
    expect(person.prompts.length).toBe(before);
    expect(scene.reached()).not.toContain('rm_all');
  });

  it('asks for a destructive tool: allow once runs it, the next call asks again, deny refuses', async () => {
    const before = person.prompts.length;
    const reachedBefore = scene.reached().length;
    person.replies = ['allow once', 'deny'];
    const seen = await run(['delete_item', 'delete_item']);
    expect(seen.outcomes[0]).toBe('delete_item 1');
    expect(seen.outcomes[1]).toMatch(/^error: declined: the user denied/);
    expect(seen.approvals).toEqual(['asked-allowed', 'denied']);
    expect(person.prompts.length - before).toBe(2);
    expect(person.prompts.at(-1)).toMatch(/"delete_item" of the MCP server "annotated"/);
    expect(person.prompts.at(-1)).toMatch(/destructiveHint/);
    expect(scene.reached().slice(reachedBefore)).toEqual(['delete_item']);
  });

  it('an ask pattern beats an allow pattern; allow-for-session is not asked again', async () => {
    const before = person.prompts.length;
    person.replies = ['allow this tool for this session'];
    const seen = await run(['echo_loud', 'echo_loud']);
    expect(seen.outcomes).toEqual(['echo_loud 1', 'echo_loud 1']);
    expect(seen.approvals).toEqual(['asked-allowed-session', 'session']);
    // Remembered for the bridge's life, in later calls too.
    const later = await run(['echo_loud']);
    expect(later.approvals).toEqual(['session']);
    expect(person.prompts.length - before).toBe(1);
  });

  it('a declined or dismissed prompt refuses the call', async () => {
    const reachedBefore = scene.reached().length;
    person.replies = ['decline', 'cancel'];
    const seen = await run(['delete_item', 'delete_item']);
    expect(seen.outcomes[0]).toMatch(/^error: declined: the user dismissed/);
    expect(seen.outcomes[1]).toMatch(/^error: declined: the user dismissed/);
    expect(seen.approvals).toEqual(['declined', 'declined']);
    expect(scene.reached().length).toBe(reachedBefore);
  });

  it('an unanswered prompt times out as declined, without the cell timing out', async () => {
    const reachedBefore = scene.reached().length;
    person.replies = ['never'];
    // The prompt waits 3 s (MCP_BRIDGE_APPROVAL_TIMEOUT) in a cell of 2 s.
    const seen = await run(['delete_item', 'echo'], 2);
    expect(seen.outcomes[0]).toMatch(/^error: declined: nobody answered .* within 3 s/);
    expect(seen.outcomes[1]).toBe('echo 1');
    expect(seen.approvals).toEqual(['timeout', 'allowed']);
    expect(scene.reached().slice(reachedBefore)).toEqual(['echo']);
  });

  it('the time a person takes does not count against the call timeout', async () => {
    person.replies = [{ after: 2500, reply: 'allow once' }];
    const seen = await run(['delete_item'], 2);
    expect(seen.outcomes).toEqual(['delete_item 1']);
    expect(seen.approvals).toEqual(['asked-allowed']);
  });

  it('several threads asking at once get one prompt at a time, each answered', async () => {
    const before = person.prompts.length;
    const reachedBefore = scene.reached().length;
    person.replies = ['allow once', 'deny', 'allow once'];
    const result = await bridge.run({
      servers,
      code: String.raw`
import asyncio, json
from mcp import runtime
async def one(i):
    try:
        return (await runtime.call_tool("annotated", "delete_item", {"id": i})).text
    except runtime.MCPError as error:
        return "error"
print("JSON " + json.dumps(sorted(await asyncio.gather(*(one(i) for i in range(3))))))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(printedJson<string[]>(result).filter((text) => text === 'error')).toHaveLength(1);
    expect(person.prompts.length - before).toBe(3);
    expect(scene.reached().length - reachedBefore).toBe(2);
  });
});

describeEachEngine('approvals with a client that cannot be asked', (engine) => {
  let scene: ApprovalScene;
  const bridges: BridgeHandle[] = [];

  beforeAll(() => {
    scene = approvalScene();
  });
  afterAll(async () => {
    await Promise.all(bridges.map((bridge) => bridge.close()));
    scene?.close();
  });

  const bridgeIn = async (mode: string, person?: ScriptedPerson) => {
    const bridge = await startApprovalBridge(engine, scene, {
      env: { MCP_BRIDGE_APPROVALS: mode },
      ...(person ? { person } : {}),
    });
    bridges.push(bridge);
    return bridge;
  };

  it('ask (the default): runs the call and says in the result what ran unapproved', async () => {
    const bridge = await bridgeIn('ask');
    const reachedBefore = scene.reached().length;
    const result = await bridge.run({
      servers,
      code: callsCode(['delete_item', 'delete_item', 'echo_loud', 'rm_all']),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<CallsOutcome>(result);
    expect(seen.approvals).toEqual(['unapproved', 'unapproved', 'unapproved', 'denied']);
    expect(scene.reached().slice(reachedBefore)).toEqual([
      'delete_item',
      'delete_item',
      'echo_loud',
    ]);
    const notices = payloadOf(result).notices ?? [];
    expect(notices.join('\n')).toMatch(
      /ran without approval .*annotated\.delete_item ×2, annotated\.echo_loud ×1/,
    );
  });

  it('strict: refuses what would be asked, runs the rest', async () => {
    const bridge = await bridgeIn('strict');
    const reachedBefore = scene.reached().length;
    const result = await bridge.run({ servers, code: callsCode(['delete_item', 'echo']) });
    const seen = printedJson<CallsOutcome>(result);
    expect(seen.outcomes[0]).toMatch(
      /^error: declined: .*cannot ask .*MCP_BRIDGE_APPROVALS=strict/,
    );
    expect(seen.outcomes[1]).toBe('echo 1');
    expect(seen.approvals).toEqual(['unapproved', 'allowed']);
    expect(scene.reached().slice(reachedBefore)).toEqual(['echo']);
    expect(payloadOf(result).notices ?? []).toEqual([]);
  });

  it('off: never asks, even a client that could be; deny still refuses', async () => {
    const person = new ScriptedPerson();
    const bridge = await bridgeIn('off', person);
    const result = await bridge.run({ servers, code: callsCode(['delete_item', 'rm_all']) });
    const seen = printedJson<CallsOutcome>(result);
    expect(seen.outcomes[0]).toBe('delete_item 1');
    expect(seen.outcomes[1]).toMatch(/^error: denied/);
    expect(seen.approvals).toEqual(['off', 'denied']);
    expect(person.prompts).toEqual([]);
  });
});
