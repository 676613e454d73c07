import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export const RUN_PYTHON = 'run_python';

/**
 * The one tool the agent sees. Kept short on purpose: the whole tools/list answer stays
 * about 200 tokens however many servers are configured; the manual is one call away.
 */
export function runPythonTool(limits: {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
}): Tool {
  return {
    name: RUN_PYTHON,
    description:
      'Run Python in a persistent sandbox (no network; variables, imports and functions persist between calls; top-level await works). ' +
      'Reach other MCP servers from the code: discover with `from mcp import runtime` (discovered_servers(), await search_tool_docs("query"), query_tool_docs(server)), ' +
      'list them in `servers`, then `await mcp_<server>.<tool>(...)`. print(runtime.capability_summary()) for the manual.',
    inputSchema: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Python source; top-level await allowed' },
        servers: {
          type: 'array',
          items: { type: 'string' },
          description: 'MCP servers to load as mcp_<name> for this call',
        },
        timeout: {
          type: 'integer',
          minimum: 1,
          maximum: limits.maxTimeoutSeconds,
          description: `Seconds (default ${limits.defaultTimeoutSeconds})`,
        },
      },
      required: ['code'],
    },
  };
}
