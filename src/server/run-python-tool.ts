import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { runPythonArgsSchema, type RunPythonLimits } from './run-python-args.js';
import { toolInputSchema } from './tool-input-schema.js';

export const RUN_PYTHON = 'run_python';

/**
 * The one tool the agent sees. Kept short on purpose: the whole tools/list answer stays
 * about 200 tokens however many servers are configured; the manual is one call away.
 * Its inputSchema is generated from the schema that validates the arguments.
 */
export function runPythonTool(limits: RunPythonLimits): Tool {
  return {
    name: RUN_PYTHON,
    description:
      'Run Python in a persistent sandbox (no network; variables, imports and functions persist between calls; top-level await works). ' +
      'Reach other MCP servers from the code: discover with `from mcp import runtime` (discovered_servers(), await search_tool_docs("query"), query_tool_docs(server)), ' +
      'list them in `servers`, then `await mcp_<server>.<tool>(...)`. print(runtime.capability_summary()) for the manual.',
    inputSchema: toolInputSchema(runPythonArgsSchema(limits)),
  };
}
