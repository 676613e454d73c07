import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { serverAliases, toolAliases } from './aliases.js';

/** How much of a tool `query_tool_docs`/`search_tool_docs` return (docs/servers.md). */
export type DocDetail = 'summary' | 'full';

/** The tool doc the sandbox receives: `inputSchema` only at `detail: 'full'`. */
export interface ToolDoc {
  server: string;
  serverAlias: string;
  tool: string;
  toolAlias: string;
  description?: string;
  inputSchema?: Tool['inputSchema'];
}

/** One server's `tools/list` answer, as the catalog keeps it. */
export interface ServerTools {
  server: string;
  tools: readonly Tool[];
}

/** One tool doc; the aliases are computed by the caller over the whole catalog. */
export function toolDoc(
  names: { server: string; serverAlias: string; toolAlias: string },
  tool: Tool,
  detail: DocDetail,
): ToolDoc {
  const doc: ToolDoc = {
    server: names.server,
    serverAlias: names.serverAlias,
    tool: tool.name,
    toolAlias: names.toolAlias,
  };
  if (tool.description !== undefined && tool.description !== '') doc.description = tool.description;
  if (detail === 'full') doc.inputSchema = tool.inputSchema;
  return doc;
}

/**
 * Docs of one server's tools in catalog order. `serverAlias` defaults to the alias of the
 * name alone; pass the one computed over every configured server when it may differ.
 */
export function serverToolDocs(
  entry: ServerTools,
  detail: DocDetail,
  serverAlias: string = serverAliases([entry.server]).get(entry.server) ?? '_',
): ToolDoc[] {
  const aliases = toolAliases(entry.tools.map((tool) => tool.name));
  return entry.tools.map((tool) =>
    toolDoc(
      { server: entry.server, serverAlias, toolAlias: aliases.get(tool.name) ?? '_' },
      tool,
      detail,
    ),
  );
}

/**
 * `query_tool_docs`: every tool of the server, or the one named (exact name
 * first, then alias); an unknown tool gives `[]`.
 */
export function queryToolDocs(
  entry: ServerTools,
  options: { tool?: string; detail?: DocDetail; serverAlias?: string } = {},
): ToolDoc[] {
  const docs = serverToolDocs(entry, options.detail ?? 'summary', options.serverAlias);
  const wanted = options.tool;
  if (wanted === undefined) return docs;
  const byName = docs.filter((doc) => doc.tool === wanted);
  return byName.length > 0 ? byName : docs.filter((doc) => doc.toolAlias === wanted);
}
