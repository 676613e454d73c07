import type { RunReport } from '../session/sandbox-session.js';
import type { HistoryStore } from '../state/history-store.js';
import { DEFAULT_SESSION } from '../util/default-session.js';

/** What the server layer needs from the history store. */
export type HistoryWriter = Pick<HistoryStore, 'newId' | 'record'> &
  Partial<Pick<HistoryStore, 'rehearse'>>;

/**
 * Records one execution; the history never changes or delays the call's own result.
 * Returns a notice for the agent when the entry could not be saved, else undefined.
 */
export function recordExecution(
  history: HistoryWriter | undefined,
  entry: {
    id: string;
    session: string;
    /** The named session (run_python's `session`); `default` when absent. */
    sessionName?: string;
    tool: string;
    code: string;
    startedAt: Date;
    servers: string[];
    status: string;
    report?: RunReport;
    error?: string;
  },
): string | undefined {
  if (!history) return undefined;
  const completedAt = new Date();
  const failure = history.record({
    id: entry.id,
    session: entry.session,
    tool: entry.tool,
    code: entry.code,
    status: entry.status,
    exitCode: entry.report?.exitCode ?? null,
    startedAt: entry.startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationMs: entry.report?.durationMs ?? completedAt.getTime() - entry.startedAt.getTime(),
    stdoutChars: entry.report?.stdout.length ?? 0,
    stderrChars: entry.report?.stderr.length ?? 0,
    servers: entry.servers,
    error: entry.error ?? entry.report?.lostReason ?? null,
    sessionName: entry.sessionName ?? DEFAULT_SESSION,
  });
  return failure === undefined
    ? undefined
    : `The history could not record this execution (${failure}), so runtime.history() will not show it. Check the state folder (MCP_BRIDGE_STATE_DIR): a full disk or missing write permission.`;
}
