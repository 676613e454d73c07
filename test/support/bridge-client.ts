import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BRIDGE_BIN = path.join(REPO_ROOT, 'dist/src/main.js');

export interface BridgeHandle {
  client: Client;
  transport: StdioClientTransport;
  stateDir: string;
  stderr: () => string;
  /** Calls run_python and returns the raw result. */
  run(args: Record<string, unknown>, timeoutMs?: number): Promise<CallToolResult>;
  close(): Promise<void>;
}

/**
 * Starts the built bridge (`dist/src/main.js run`) as a real child process and connects
 * the real MCP SDK client to it over stdio, as Claude Desktop would.
 */
export async function startBridge(options: {
  dockerHost: string;
  env?: Record<string, string>;
}): Promise<BridgeHandle> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-test-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: options.dockerHost,
    MCP_BRIDGE_IMAGE: process.env.MCP_BRIDGE_IMAGE ?? 'localhost/mcp-sandbox:test',
    MCP_BRIDGE_STATE_DIR: stateDir,
    MCP_BRIDGE_LOG_LEVEL: process.env.MCP_BRIDGE_TEST_LOG_LEVEL ?? 'warn',
    ...options.env,
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BRIDGE_BIN, 'run'],
    env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-200_000);
  });
  const client = new Client({ name: 'bridge-e2e', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stateDir,
    stderr: () => stderr,
    run: async (args, timeoutMs = 120_000) =>
      CallToolResultSchema.parse(
        await client.callTool({ name: 'run_python', arguments: args }, undefined, {
          timeout: timeoutMs,
        }),
      ),
    close: async () => {
      await client.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The text of a result's first content item. */
export function resultText(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

export interface StructuredPayload {
  status?: string;
  summary?: string;
  exitCode?: number;
  stdout?: string[];
  stderr?: string[];
  error?: string;
  timeoutSeconds?: number;
  notices?: string[];
}

export function payloadOf(result: CallToolResult): StructuredPayload {
  const structured: StructuredPayload = result.structuredContent ?? {};
  return structured;
}
