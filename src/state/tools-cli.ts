import type { Logger } from '../logger.js';
import { SavedToolStore } from './saved-tools.js';
import { TOOL_NAME } from './tool-rule.js';

export const TOOLS_USAGE = `Usage: mcp-server-code-execution-mode tools <list | delete NAME>

  list          show the saved tools and the quarantined ones (with the reason)
  delete NAME   remove the saved or quarantined tool NAME

Saved tools live in <state dir>/saved-tools (MCP_BRIDGE_STATE_DIR, default ~/MCPs).`;

export interface ToolsCommandIo {
  stateDir: string;
  logger: Logger;
  out(line: string): void;
  err(line: string): void;
}

/**
 * `mcp-server-code-execution-mode tools list|delete NAME`: the host's view of the saved
 * tools, quarantined ones included. Exit codes: 0 done, 1 no such tool, 2 bad usage.
 */
export function runToolsCommand(args: readonly string[], io: ToolsCommandIo): number {
  const store = new SavedToolStore(io.stateDir, io.logger);
  const [command, ...rest] = args;
  if (command === 'list' && rest.length === 0) return listTools(store, io);
  if (command === 'delete' && rest.length === 1) return deleteTool(store, rest[0] ?? '', io);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.err(TOOLS_USAGE);
    return command === undefined ? 2 : 0;
  }
  io.err(`Unknown or incomplete command 'tools ${args.join(' ')}'.\n\n${TOOLS_USAGE}`);
  return 2;
}

function listTools(store: SavedToolStore, io: ToolsCommandIo): number {
  const rows = [
    ...store.list().map((tool) => [tool.name, 'saved', tool.savedAt, tool.description ?? '']),
    ...store
      .listQuarantined()
      .map((tool) => [tool.name, 'quarantined', tool.quarantinedAt ?? '-', tool.reason]),
  ];
  if (rows.length === 0) {
    io.out(`No saved tools (in ${store.folder}).`);
    return 0;
  }
  const width = Math.max(4, ...rows.map(([name]) => (name ?? '').length));
  io.out(`${'NAME'.padEnd(width)}  ${'STATUS'.padEnd(11)}  ${'SINCE'.padEnd(24)}  DETAILS`);
  for (const [name = '', status = '', since = '', details = ''] of rows) {
    io.out(`${name.padEnd(width)}  ${status.padEnd(11)}  ${since.padEnd(24)}  ${oneLine(details)}`);
  }
  io.out('');
  io.out(
    `Saved tools: ${store.folder}; quarantined ones are not loaded (${store.quarantineFolder}).`,
  );
  io.out('Remove one with: mcp-server-code-execution-mode tools delete NAME');
  return 0;
}

function deleteTool(store: SavedToolStore, name: string, io: ToolsCommandIo): number {
  if (!TOOL_NAME.test(name)) {
    io.err(
      `${JSON.stringify(name)} is not a valid tool name (an ASCII Python identifier, at most 100 characters).`,
    );
    return 2;
  }
  const removed = store.remove(name);
  if (!removed.saved && !removed.quarantined) {
    io.err(
      `No saved or quarantined tool named '${name}' (in ${store.folder}). See: mcp-server-code-execution-mode tools list`,
    );
    return 1;
  }
  if (removed.saved) io.out(`Deleted the saved tool '${name}'.`);
  if (removed.quarantined) io.out(`Deleted the quarantined tool '${name}'.`);
  return 0;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
