import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  McpError,
  ErrorCode,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { CAPABILITIES_URI, CAPABILITY_SUMMARY } from './capabilities.js';
import { executorTools, isExecutorTool } from './executor/definitions.js';
import { callExecutorTool, type HistoryReader } from './executor/handlers.js';
import { renderResult } from './render.js';
import { handleRunPython, type RunPythonDependencies } from './run-python-handler.js';
import { RUN_PYTHON, runPythonTool } from './run-python-tool.js';

export const SERVER_NAME = 'mcp-server-code-execution-mode';

export interface McpServerDependencies extends RunPythonDependencies {
  history: HistoryReader | undefined;
  version: string;
}

/**
 * The MCP face of the bridge: run_python always, the executor toolset when the operator
 * opts in (MCP_BRIDGE_TOOLS), and the capabilities resource. Tool failures are results
 * with isError (the agent can read them and go on); only protocol misuse is an McpError.
 */
export function createMcpServer(deps: McpServerDependencies): Server {
  const { config } = deps;
  const server = new Server(
    { name: SERVER_NAME, version: deps.version },
    { capabilities: { tools: {}, resources: {} }, jsonSchemaValidator: lazyValidator() },
  );
  const executorEnabled = config.executor.tools !== 'run_python';
  const tools = [
    runPythonTool(config),
    ...(executorEnabled ? executorTools(config.executor.timeoutSeconds) : []),
  ];

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params;
    if (name === RUN_PYTHON) return handleRunPython(args, deps);
    if (executorEnabled && isExecutorTool(name)) return callExecutorTool(name, args, deps);
    return renderResult(
      { status: 'error', summary: `Unknown tool: ${name}`, error: `Unknown tool: ${name}` },
      config.outputMode,
    );
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

/**
 * The SDK checks elicitation answers with Ajv, and the bridge never elicits: Ajv is built
 * (and loaded, src/server/lazy-sdk-modules.ts) only if that ever changes.
 */
function lazyValidator(): jsonSchemaValidator {
  let real: jsonSchemaValidator | undefined;
  return {
    getValidator: (schema) => (real ??= new AjvJsonSchemaValidator()).getValidator(schema),
  };
}
