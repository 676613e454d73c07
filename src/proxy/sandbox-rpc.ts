import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { PackageManager } from '../packages/package-manager.js';
import type { ExecutionRecord } from '../state/history-store.js';
import type { ClockHold } from '../session/cell-clock.js';
import type { RpcHandler } from '../session/rpc-gate.js';
import type { SavedToolStore } from '../state/saved-tools.js';
import { queryToolDocs } from '../upstream/tool-docs.js';
import { markRpcStage } from '../util/rpc-timing.js';
import { sandboxCallView, trackCall, type ProxiedCallAudit } from './call-audit.js';
import type { ServerCatalog } from './server-catalog.js';
import type { ApprovalOutcome, CallApprovals } from './approvals.js';
import { resolveToolPolicy, type PolicyDecision } from './tool-policy.js';

/** What answering `call_tool` needs from the running MCP clients. */
export interface ToolCaller {
  callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal },
  ): Promise<CallToolResult>;
}

/** Why `search_tool_docs` skipped a server, for the agent (and what to do about it). */
export const NOT_INDEXED_REASON =
  'its tools are not known: it has not been started by this bridge and has no cached tool list; ' +
  'name it in `servers` to start it (search covers it from then on)';

/** The most proxied calls one `calls` request returns. */
export const MAX_CALLS_LIMIT = 1000;

/** Arguments bigger than this are refused before they reach a server. */
export const MAX_TOOL_ARGUMENT_BYTES = 1024 * 1024;

const name = z.string().min(1).max(200);
const detail = z.enum(['summary', 'full']).optional();
const requestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('list_servers') }),
  z.object({ type: z.literal('list_tools'), server: name }),
  z.object({
    type: z.literal('call_tool'),
    server: name,
    tool: name,
    arguments: z.record(z.string(), z.unknown()).nullish(),
  }),
  z.object({ type: z.literal('query_tool_docs'), server: name, tool: name.nullish(), detail }),
  z.object({
    type: z.literal('search_tool_docs'),
    query: z.string().max(1000),
    limit: z.number().int().nullish(),
    detail,
  }),
  z.object({
    type: z.literal('save_tool'),
    name,
    source: z.string(),
    description: z.string().max(10_000).nullish(),
  }),
  z.object({ type: z.literal('list_saved_tools') }),
  z.object({ type: z.literal('delete_saved_tool'), name }),
  // Package installs (src/packages): validated by parsePackageSpec, which says why not.
  z.object({ type: z.literal('install_package'), name: z.string().max(1000) }),
  z.object({ type: z.literal('history'), limit: z.number().int().nullish() }),
  // The audit trail (call-audit.ts): a bad limit is refused, never clamped into a read.
  z.object({
    type: z.literal('calls'),
    limit: z.number().int().min(1).max(MAX_CALLS_LIMIT).nullish(),
  }),
  // runtime.reset(): ends the call's own session once the call answers; takes nothing.
  z.object({ type: z.literal('reset') }),
]);

/**
 * What answering `history` needs: the executions of this bridge process only. Other MCP
 * clients may run bridges on the same state dir (one history file); their code is not
 * this sandbox's to read. A distinct method name, so the whole store cannot be passed
 * by mistake.
 */
export interface SandboxHistoryReader {
  ownRecent(limit: number): ExecutionRecord[];
}

/** What answering `install_package` needs (src/packages/package-manager.ts). */
export type SandboxPackageInstaller = Pick<PackageManager, 'installOrRefuse'>;

/**
 * Answers one call's requests from the sandbox (docs/protocol.md, RPC). Security: the
 * allow-list is the host's copy of this call's `servers`, matched exactly; nothing the
 * sandbox sends can widen it.
 */
export function sandboxRpcHandler(context: {
  allowed: ReadonlySet<string>;
  /**
   * The call's named session, fixed by the host when the call started: nothing the
   * sandbox sends names another, so `calls`, `history` and `reset` reach only this one.
   */
  session: string;
  /** Ends this session after the call answers; absent: `reset` is refused. */
  reset?: (() => void) | undefined;
  catalog: ServerCatalog;
  caller: ToolCaller;
  savedTools: SavedToolStore;
  /** Package installs; absent: `install_package` is refused. */
  packages?: SandboxPackageInstaller | undefined;
  /** This bridge's execution history; absent: `history` answers an empty list. */
  history?: SandboxHistoryReader | undefined;
  /** The audit trail of proxied calls; absent: nothing recorded, `calls` answers []. */
  audit?: ProxiedCallAudit | undefined;
  /**
   * This call's approvals (approvals.ts); absent: nobody is asked (as with
   * MCP_BRIDGE_APPROVALS=off), deny patterns still refuse.
   */
  approvals?: CallApprovals | undefined;
}): RpcHandler {
  const { allowed, session, catalog, caller, savedTools, packages, history, audit, approvals } =
    context;
  const requireLoaded = (server: string) => {
    if (!allowed.has(server)) throw new Error(`Server '${server}' is not available`);
  };
  /**
   * Security: the policy reads the server's config and the bridge's own copy of its tool
   * list (annotations), never anything the sandbox sent besides the tool's name.
   */
  const approve = (
    call: { server: string; tool: string; args: Record<string, unknown>; argumentBytes: number },
    wait: { signal: AbortSignal; clock: ClockHold | undefined },
  ): Promise<ApprovalOutcome> => {
    const listed = catalog.knownTools(call.server)?.find((tool) => tool.name === call.tool);
    const policy = resolveToolPolicy(catalog.definition(call.server)?.tools, call.tool, listed);
    return approvals ? approvals.decide(call, policy, wait) : Promise.resolve(unasked(policy));
  };
  return async (payload, signal, clock) => {
    const parsed = requestSchema.safeParse(payload);
    if (!parsed.success) {
      const type = typeof payload.type === 'string' ? payload.type : '(none)';
      const issue = parsed.error.issues[0];
      throw new Error(
        `Invalid '${type}' request: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'bad shape'}`,
      );
    }
    const request = parsed.data;
    markRpcStage('validated');
    switch (request.type) {
      case 'list_servers':
        return { servers: [...allowed].sort() };
      case 'list_tools': {
        requireLoaded(request.server);
        const tools = await catalog.load(request.server);
        return {
          tools: tools.map((tool) => ({
            name: tool.name,
            ...(tool.description ? { description: tool.description } : {}),
            inputSchema: tool.inputSchema,
          })),
        };
      }
      case 'call_tool': {
        const args = request.arguments ?? {};
        const json = JSON.stringify(args);
        // Every call is audited, refusals included (call-audit.ts).
        const tracker = trackCall(audit, {
          session,
          server: request.server,
          tool: request.tool,
          json,
        });
        try {
          requireLoaded(request.server);
          const size = Buffer.byteLength(json);
          if (size > MAX_TOOL_ARGUMENT_BYTES) {
            throw new Error(
              `The arguments for '${request.tool}' are ${size} bytes of JSON; the limit is ${MAX_TOOL_ARGUMENT_BYTES}.`,
            );
          }
          const approval = await approve(
            { server: request.server, tool: request.tool, args, argumentBytes: size },
            { signal, clock },
          );
          tracker.approved(approval.approval);
          if (!approval.run) throw new Error(approval.refusal ?? 'declined');
          tracker.reached();
          markRpcStage('sent');
          const result = await caller.callTool(request.server, request.tool, args, { signal });
          markRpcStage('answered');
          tracker.finished(result);
          markRpcStage('audited');
          return { result };
        } catch (error: unknown) {
          tracker.failed(error);
          throw error;
        }
      }
      case 'calls':
        return {
          calls: (audit?.ownRecent(request.limit ?? 20, session) ?? []).map(sandboxCallView),
        };
      case 'reset': {
        if (!context.reset) throw new Error('This bridge cannot reset the session.');
        context.reset();
        return { session };
      }
      case 'query_tool_docs': {
        // Loaded servers answer live; others from the cached catalog, never by starting them.
        const tools = allowed.has(request.server)
          ? await catalog.load(request.server)
          : catalog.knownTools(request.server);
        if (!tools) throw new Error(`Server '${request.server}' is not available`);
        return {
          docs: queryToolDocs(
            { server: request.server, tools },
            {
              ...(request.tool ? { tool: request.tool } : {}),
              detail: request.detail ?? 'summary',
              serverAlias: catalog.alias(request.server),
            },
          ),
        };
      }
      case 'search_tool_docs':
        // Security: only tool lists already known (loaded, or cached on disk); a search
        // never starts a server the call did not name. It says which it could not cover.
        return {
          results: catalog.searchIndex().search(request.query, {
            limit: request.limit ?? 5,
            detail: request.detail ?? 'summary',
            loaded: (server) => allowed.has(server),
          }),
          notSearched: catalog
            .unindexed()
            .map((server) => ({ server, reason: NOT_INDEXED_REASON })),
        };
      case 'save_tool': {
        const saved = savedTools.save({
          name: request.name,
          source: request.source,
          description: request.description ?? undefined,
        });
        return { saved: saved.name };
      }
      case 'list_saved_tools':
        return {
          tools: savedTools.list().map(({ name: toolName, description, savedAt }) => ({
            name: toolName,
            ...(description ? { description } : {}),
            savedAt,
          })),
        };
      case 'delete_saved_tool':
        return { deleted: savedTools.delete(request.name) };
      case 'history':
        return {
          history: (history?.ownRecent(Math.min(Math.max(request.limit ?? 20, 1), 1000)) ?? []).map(
            (entry) => ({
              id: entry.id,
              session: entry.sessionName,
              tool: entry.tool,
              code: entry.code,
              status: entry.status,
              exitCode: entry.exitCode,
              startedAt: entry.startedAt,
              durationMs: entry.durationMs,
              servers: entry.servers,
            }),
          ),
        };
      case 'install_package': {
        // Refusals (invalid name, policy) throw before any container starts; failed
        // installs are answered as results with success false. `list_packages` is no
        // request: the sandbox reads its read-only store itself (docs/protocol.md).
        if (!packages) throw new Error('Package installs are not available in this bridge.');
        return { ...(await packages.installOrRefuse(request.name, { signal })) };
      }
    }
  };
}

/** Without approvals: deny patterns refuse, everything else runs unasked. */
function unasked(policy: PolicyDecision): ApprovalOutcome {
  if (policy.verdict === 'deny') {
    return { run: false, approval: 'denied', refusal: `denied: ${policy.reason}` };
  }
  return {
    run: true,
    approval: policy.verdict === 'ask' ? 'off' : policy.byPattern ? 'allowed' : 'none',
  };
}
