import type { ExecuteServer } from '../channel/frames.js';
import { BridgeError, errorMessage } from '../errors.js';
import type { SavedToolStore } from '../state/saved-tools.js';
import type { CallServers } from '../session/sandbox-session.js';
import { toolAliases } from '../upstream/aliases.js';
import {
  sandboxRpcHandler,
  type SandboxHistoryReader,
  type SandboxPackageInstaller,
  type ToolCaller,
} from './sandbox-rpc.js';
import type { ProxiedCallAudit } from './call-audit.js';
import type { ApprovalDesk } from './approvals.js';
import type { ServerCatalog } from './server-catalog.js';

/** The servers for the execute frame, the cell's request handler, and what to tell after. */
export type PreparedServers = Required<CallServers> & {
  /** Notices for the call's result once its cell ended (calls that ran unapproved). */
  notices(): string[];
};

/** A server named in `servers` could not be started or listed; the message names it. */
export class ServerLoadError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('server_load_failed', message, options);
  }
}

/**
 * Everything a call's cell may reach: each server named in `servers`, started (or kept
 * warm) and listed before the code runs, and the request handler bound to that list.
 */
export async function prepareCallServers(
  names: readonly string[],
  context: {
    /** The call's named session: its audit rows, `calls`, `history`, `reset` and the
     * approvals given "for this session" are its own. */
    session: string;
    /** Ends the call's session after it answers (`runtime.reset()`); absent: refused. */
    reset?: (() => void) | undefined;
    catalog: ServerCatalog;
    caller: ToolCaller;
    savedTools: SavedToolStore;
    /** Package installs (src/packages), answered for `install_package` requests. */
    packages?: SandboxPackageInstaller | undefined;
    history?: SandboxHistoryReader | undefined;
    /** The audit trail of proxied calls (call-audit.ts). */
    audit?: ProxiedCallAudit | undefined;
    /** Approvals (approvals.ts): each call gets its own count of prompts and notices. */
    approvals?: ApprovalDesk | undefined;
  },
): Promise<PreparedServers> {
  const { catalog } = context;
  const servers = await Promise.all(
    names.map(async (name): Promise<ExecuteServer> => {
      let tools;
      try {
        tools = await catalog.load(name);
      } catch (error: unknown) {
        throw new ServerLoadError(`Could not load MCP server '${name}': ${errorMessage(error)}`, {
          cause: error,
        });
      }
      const aliases = toolAliases(tools.map((tool) => tool.name));
      const definition = catalog.definition(name);
      return {
        name,
        alias: catalog.alias(name),
        description: definition?.description,
        cwd: definition?.cwd,
        tools: tools.map((tool) => ({
          name: tool.name,
          alias: aliases.get(tool.name) ?? tool.name,
          description: tool.description,
          inputSchema: tool.inputSchema,
        })),
      };
    }),
  );
  const approvals = context.approvals?.forCall(context.session);
  return {
    servers,
    rpc: sandboxRpcHandler({ allowed: new Set(names), ...context, approvals }),
    notices: () => approvals?.notices() ?? [],
  };
}
