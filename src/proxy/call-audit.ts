import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../errors.js';
import {
  describeArguments,
  NO_APPROVAL,
  shortMessage,
  type ProxiedCallRecord,
} from '../state/call-audit-record.js';

/**
 * Where proxied calls are recorded, and what the sandbox may read back: its own bridge
 * process's calls in its own session (src/state/call-audit-store.ts behind it).
 */
export interface ProxiedCallAudit {
  /** Keep the arguments' JSON too (MCP_BRIDGE_AUDIT_ARGS=1), bounded. */
  readonly storeArguments: boolean;
  /** This bridge process (a random id); each call also names its session. */
  readonly bridge: string;
  record(entry: ProxiedCallRecord): void;
  /** Newest first; only this bridge's calls in `session`. */
  ownRecent(limit: number, session: string): ProxiedCallRecord[];
}

/** Follows one call from the sandbox's request to its answer. */
export interface CallTracker {
  /** The approval decision (approvals.ts), recorded with the call; `none` if never set. */
  approved(approval: string): void;
  /** The checks passed: from now on a failure is the call's, not a refusal. */
  reached(): void;
  finished(result: CallToolResult): void;
  failed(error: unknown): void;
}

const UNTRACKED: CallTracker = {
  approved: () => undefined,
  reached: () => undefined,
  finished: () => undefined,
  failed: () => undefined,
};

/** The text of an error result, for its short message. */
function resultMessage(result: CallToolResult): string {
  for (const block of result.content) {
    if (block.type === 'text') return block.text;
  }
  return 'the tool returned an error';
}

/**
 * Starts following a call_tool request. The record is queued when the call ends: `ok`,
 * `error` (the server answered isError or the call failed after the checks), or
 * `refused` (a check failed before the server saw anything).
 */
export function trackCall(
  audit: ProxiedCallAudit | undefined,
  call: { session: string; server: string; tool: string; json: string },
): CallTracker {
  if (!audit) return UNTRACKED;
  const at = Date.now();
  const started = performance.now();
  let reached = false;
  let done = false;
  let approval = NO_APPROVAL;
  const finish = (outcome: ProxiedCallRecord['outcome'], message: string | null) => {
    if (done) return;
    done = true;
    const durationMs = performance.now() - started;
    // The digest and the record wait until the answer is on its way to the sandbox: the
    // call's own latency pays only for the two clock reads.
    setImmediate(() =>
      audit.record({
        at,
        bridge: audit.bridge,
        session: call.session,
        server: call.server,
        tool: call.tool,
        ...describeArguments(call.json, audit.storeArguments),
        outcome,
        message: message === null ? null : shortMessage(message),
        durationMs,
        approval,
      }),
    );
  };
  return {
    approved: (decision) => {
      approval = decision;
    },
    reached: () => {
      reached = true;
    },
    finished: (result) =>
      result.isError === true ? finish('error', resultMessage(result)) : finish('ok', null),
    failed: (error) => finish(reached ? 'error' : 'refused', errorMessage(error)),
  };
}

/** What `runtime.calls()` shows the sandbox of one recorded call. */
export function sandboxCallView(entry: ProxiedCallRecord): Record<string, unknown> {
  return {
    at: new Date(entry.at).toISOString(),
    session: entry.session,
    server: entry.server,
    tool: entry.tool,
    argumentBytes: entry.argumentBytes,
    argumentSha256: entry.argumentSha256,
    outcome: entry.outcome,
    message: entry.message,
    durationMs: Math.round(entry.durationMs * 1000) / 1000,
    approval: entry.approval,
  };
}
