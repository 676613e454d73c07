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
import { isRehearsal, rehearsalDependencies } from './call-rehearsal.js';
import { executorTools, isExecutorTool } from './executor/definitions.js';
import { callExecutorTool, type HistoryReader } from './executor/handlers.js';
import { progressReporterFor } from './progress-reporter.js';
import { renderResult } from './render.js';
import { applyStructuredMode } from './rich-result.js';
import { handleRunPython, type RunPythonDependencies } from './run-python-handler.js';
import { RUN_PYTHON, runPythonTool } from './run-python-tool.js';
import type { ArtifactStore } from '../state/artifact-store.js';

export const SERVER_NAME = 'mcp-server-code-execution-mode';

export interface McpServerDependencies extends RunPythonDependencies {
  history: HistoryReader | undefined;
  version: string;
  /** The manual, when it says more than CAPABILITY_SUMMARY (e.g. the host folders). */
  capabilitySummary?: string | undefined;
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

  server.setRequestHandler(
    CallToolRequestSchema,
    async (request, extra): Promise<CallToolResult> => {
      const { name, arguments: args } = request.params;
      // Progress and cancellation (MCP): the SDK aborts extra.signal on the client's
      // notifications/cancelled, and when the connection closes.
      const reporter = progressReporterFor(
        request.params._meta?.progressToken,
        extra.sendNotification,
        (error: unknown) => deps.logger.debug({ err: error }, 'progress notification not sent'),
      );
      const control = { signal: extra.signal, observer: reporter };
      try {
        if (name === RUN_PYTHON) {
          // The bridge's own synthetic call at pre-warm leaves no trace (call-rehearsal.ts).
          const rehearsal = isRehearsal(extra);
          const callDeps = rehearsal ? rehearsalDependencies(deps) : deps;
          // The executor toolset keeps its JSON shapes; run_python follows MCP_BRIDGE_STRUCTURED.
          const client = server.getClientVersion()?.name;
          return applyStructuredMode(
            await handleRunPython(args, callDeps, rehearsal ? { ...control, rehearsal } : control),
            config.display.structured,
            client,
          );
        }
        if (executorEnabled && isExecutorTool(name)) {
          return await callExecutorTool(name, args, deps, control);
        }
      } finally {
        reporter?.stop();
      }
      return renderResult(
        { status: 'error', summary: `Unknown tool: ${name}`, error: `Unknown tool: ${name}` },
        config.outputMode,
      );
    },
  );

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [
      ...(deps.artifacts?.list() ?? []).map((file) => ({
        uri: file.uri,
        name: file.name,
        mimeType: file.mimeType,
        size: file.size,
      })),
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
    const { uri } = request.params;
    if (uri.startsWith('artifact://')) return readArtifact(deps.artifacts, uri);
    if (request.params.uri !== CAPABILITIES_URI) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown resource: ${request.params.uri}`);
    }
    return {
      contents: [
        {
          uri: CAPABILITIES_URI,
          mimeType: 'text/markdown',
          text: deps.capabilitySummary ?? CAPABILITY_SUMMARY,
        },
      ],
    };
  });

  return server;
}

/** A returned file's bytes: text for text files that are UTF-8, base64 otherwise. */
function readArtifact(store: ArtifactStore | undefined, uri: string) {
  const found = store?.read(uri);
  if (!found) {
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown resource: ${uri} (files returned by run_python are kept while this bridge runs, until MCP_BRIDGE_ARTIFACTS_MB evicts them)`,
    );
  }
  const { artifact, bytes } = found;
  const text = bytes.toString('utf8');
  const textual = artifact.mimeType.startsWith('text/') || artifact.mimeType === 'application/json';
  return {
    contents: [
      textual && Buffer.from(text, 'utf8').equals(bytes)
        ? { uri, mimeType: artifact.mimeType, text }
        : { uri, mimeType: artifact.mimeType, blob: bytes.toString('base64') },
    ],
  };
}

/**
 * The SDK checks elicitation answers with Ajv, and the bridge elicits only to ask for an
 * approval (src/server/elicitation-asker.ts): Ajv is built (and loaded,
 * src/server/lazy-sdk-modules.ts) at the first prompt, not at start.
 */
function lazyValidator(): jsonSchemaValidator {
  let real: jsonSchemaValidator | undefined;
  return {
    getValidator: (schema) => (real ??= new AjvJsonSchemaValidator()).getValidator(schema),
  };
}
