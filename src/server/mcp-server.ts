import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  McpError,
  ErrorCode,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { BridgeConfig } from '../config/env.js';
import { BridgeError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { ServerLoadError } from '../proxy/call-servers.js';
import type { CallServers, SandboxSession } from '../session/sandbox-session.js';
import { closestFirst } from '../util/closest.js';
import { CAPABILITIES_URI, CAPABILITY_SUMMARY } from './capabilities.js';
import { renderResult } from './render.js';
import { reportToPayload, sandboxErrorPayload } from './report-payload.js';
import { parseRunPythonArgs } from './run-python-args.js';
import { RUN_PYTHON, runPythonTool } from './run-python-tool.js';

export const SERVER_NAME = 'mcp-server-code-execution-mode';

/**
 * The MCP face of the bridge. Every failure of a run_python call is a tool result with
 * isError (the agent can read it and go on); only protocol misuse is an McpError.
 */
/** The configured MCP servers, as run_python needs them. */
export interface ServerAccess {
  names(): string[];
  /** Starts and lists the named servers; rejects with a message naming the one that failed. */
  prepare(names: string[]): Promise<CallServers>;
}

export function createMcpServer(options: {
  config: BridgeConfig;
  session: SandboxSession;
  servers: ServerAccess;
  logger: Logger;
  version: string;
}): Server {
  const { config, session, logger } = options;
  const server = new Server(
    { name: SERVER_NAME, version: options.version },
    { capabilities: { tools: {}, resources: {} } },
  );
  const tool = runPythonTool(config);

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [tool] }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const { name } = request.params;
    if (name !== RUN_PYTHON) {
      return renderResult(
        { status: 'error', summary: `Unknown tool: ${name}`, error: `Unknown tool: ${name}` },
        config.outputMode,
      );
    }
    const parsed = parseRunPythonArgs(request.params.arguments, config);
    if (!parsed.ok) {
      return renderResult(
        { status: 'validation_error', summary: parsed.message, error: parsed.message },
        config.outputMode,
      );
    }
    const { code, servers, timeoutSeconds } = parsed.args;
    const unknown = servers.filter((name) => !options.servers.names().includes(name));
    if (unknown.length > 0) {
      const message = unknownServersMessage(unknown, options.servers.names(), config.stateDir);
      return renderResult(
        { status: 'validation_error', summary: message, error: message },
        config.outputMode,
      );
    }
    try {
      const reach = await options.servers.prepare(servers);
      const report = await session.run(code, timeoutSeconds, reach);
      return renderResult(reportToPayload(report, { timeoutSeconds, servers }), config.outputMode);
    } catch (error: unknown) {
      if (!(error instanceof BridgeError) && !(error instanceof ServerLoadError)) {
        logger.error({ err: error }, 'run_python failed unexpectedly');
      }
      return renderResult(sandboxErrorPayload(errorMessage(error), servers), config.outputMode);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [
      {
        uri: CAPABILITIES_URI,
        name: 'capabilities',
        title: 'run_python manual',
        description:
          'How to use the run_python sandbox: persistence, limits, MCP servers, discovery',
        mimeType: 'text/markdown',
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    if (request.params.uri !== CAPABILITIES_URI) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown resource: ${request.params.uri}`);
    }
    return {
      contents: [{ uri: CAPABILITIES_URI, mimeType: 'text/markdown', text: CAPABILITY_SUMMARY }],
    };
  });

  return server;
}

function unknownServersMessage(unknown: string[], configured: string[], stateDir: string): string {
  const first = unknown[0] ?? '';
  const listing =
    configured.length > 0
      ? `Configured servers: ${closestFirst(first, configured).join(', ')}.`
      : `No MCP servers are configured: add them to a *.json file in ${stateDir} (see docs/servers.md).`;
  return `Unknown server${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. ${listing}`;
}
