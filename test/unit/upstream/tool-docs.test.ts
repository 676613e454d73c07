import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { queryToolDocs, serverToolDocs } from '../../../src/upstream/tool-docs.js';

function tool(
  name: string,
  description?: string,
  properties: Tool['inputSchema']['properties'] = {},
): Tool {
  return {
    name,
    ...(description ? { description } : {}),
    inputSchema: { type: 'object', properties },
  };
}

describe('tool docs', () => {
  const entry = { server: 'My Server', tools: [tool('import', 'Imports'), tool('get-x')] };

  it('builds summary and full docs with aliases', () => {
    expect(serverToolDocs(entry, 'summary')).toEqual([
      {
        server: 'My Server',
        serverAlias: 'my_server',
        tool: 'import',
        toolAlias: 'import_',
        description: 'Imports',
      },
      { server: 'My Server', serverAlias: 'my_server', tool: 'get-x', toolAlias: 'get_x' },
    ]);
    expect(serverToolDocs(entry, 'full')[1]?.inputSchema).toEqual({
      type: 'object',
      properties: {},
    });
  });

  it('answers query_tool_docs for all tools, one by name or alias, or none', () => {
    expect(queryToolDocs(entry)).toHaveLength(2);
    expect(queryToolDocs(entry, { tool: 'get-x' }).map((d) => d.tool)).toEqual(['get-x']);
    expect(queryToolDocs(entry, { tool: 'get_x' }).map((d) => d.tool)).toEqual(['get-x']);
    expect(queryToolDocs(entry, { tool: 'nope' })).toEqual([]);
    expect(queryToolDocs(entry, { serverAlias: 'my_server_2' })[0]?.serverAlias).toBe(
      'my_server_2',
    );
    expect(queryToolDocs(entry, { tool: 'import', detail: 'full' })[0]).toHaveProperty(
      'inputSchema',
    );
  });
});
