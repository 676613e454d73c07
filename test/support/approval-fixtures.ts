import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { REPO_ROOT, startBridge, type BridgeHandle } from './bridge-client.js';
import type { TestEngine } from './engines.js';

/**
 * The approvals' scene: a state dir that configures test/fixtures/annotated-server.mjs as
 * `annotated` with a `tools` policy, the file where it notes each call it receives, and
 * a client that answers approval prompts as the test scripts them.
 */

/** The policy every approvals test runs under (docs/servers.md, "Approvals"). */
export const TEST_POLICY = {
  allow: ['*_cache', 'rm_*', 'echo*'],
  ask: ['echo_loud', 'rm_*'],
  deny: ['rm_*'],
};

/** What the scripted person does with one prompt. */
export type Reply =
  | 'allow once'
  | 'allow this tool for this session'
  | 'deny'
  | 'decline'
  | 'cancel'
  | 'never'
  | { after: number; reply: Reply };

export interface ApprovalScene {
  stateDir: string;
  /** The tool names the fixture server was called with, in order. */
  reached(): string[];
  close(): void;
}

export function approvalScene(policy: object = TEST_POLICY): ApprovalScene {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'approvals-'));
  const stateDir = path.join(scratch, 'state');
  mkdirSync(stateDir);
  const callsFile = path.join(scratch, 'calls.txt');
  const config = {
    mcpServers: {
      annotated: {
        command: process.execPath,
        args: [path.join(REPO_ROOT, 'test/fixtures/annotated-server.mjs')],
        env: { CALLS_FILE: callsFile },
        tools: policy,
      },
    },
  };
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
  return {
    stateDir,
    reached: () =>
      existsSync(callsFile) ? readFileSync(callsFile, 'utf8').split('\n').filter(Boolean) : [],
    close: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** The prompts a scripted person saw, and the replies still to give (then `fallback`). */
export class ScriptedPerson {
  readonly prompts: string[] = [];
  replies: Reply[] = [];
  fallback: Reply = 'deny';

  install(client: Client): void {
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      this.prompts.push(request.params.message);
      return this.#answer(this.replies.shift() ?? this.fallback, extra.signal);
    });
  }

  async #answer(reply: Reply, signal: AbortSignal): Promise<ElicitResult> {
    if (typeof reply === 'object') {
      await new Promise((resolve) => setTimeout(resolve, reply.after));
      return this.#answer(reply.reply, signal);
    }
    switch (reply) {
      case 'decline':
      case 'cancel':
        return { action: reply };
      case 'never':
        // Only the bridge's cancellation (its timeout, or the call ending) ends this.
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('cancelled by the bridge'))),
        );
      case 'allow once':
      case 'allow this tool for this session':
      case 'deny':
        return { action: 'accept', content: { decision: reply } };
    }
  }
}

/** A bridge on the scene's state dir; `person` set: the client declares elicitation. */
export function startApprovalBridge(
  engine: TestEngine,
  scene: ApprovalScene,
  options: { env?: Record<string, string>; person?: ScriptedPerson },
): Promise<BridgeHandle> {
  const { person } = options;
  return startBridge({
    dockerHost: engine.dockerHost,
    stateDir: scene.stateDir,
    env: { ...engine.bridgeEnv, ...options.env },
    ...(person
      ? {
          clientCapabilities: { elicitation: {} },
          setupClient: (client: Client) => person.install(client),
        }
      : {}),
  });
}

/**
 * Python that calls `annotated` tools and prints, as `JSON …`, each call's outcome: the
 * tool's text, or `error: <the MCPError>`; then the audit trail's approvals of these calls.
 */
export function callsCode(tools: string[], extra = ''): string {
  return String.raw`
import json
from mcp import runtime
outcomes = []
for tool in ${JSON.stringify(tools)}:
    try:
        result = await runtime.call_tool("annotated", tool, {"id": 1})
        outcomes.append(result["content"][0]["text"])
    except runtime.MCPError as error:
        outcomes.append("error: " + str(error))
${extra}
approvals = [call["approval"] for call in reversed(runtime.calls(${tools.length}))]
print("JSON " + json.dumps({"outcomes": outcomes, "approvals": approvals}))
`;
}

export interface CallsOutcome {
  outcomes: string[];
  approvals: string[];
}
