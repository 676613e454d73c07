import type { Logger } from '../logger.js';
import { MAX_AUDIT_READ, CallAuditStore } from './call-audit-store.js';
import type { ProxiedCallRecord } from './call-audit-record.js';
import { HistoryStore } from './history-store.js';

export const AUDIT_USAGE = `Usage: mcp-server-code-execution-mode audit [--since WHEN] [--session NAME] [--limit N] [--json]

  --since WHEN    calls from then on: an ISO time (2026-12-06T10:00Z) or an age (30m, 2h, 7d)
  --session NAME  calls of that session only (all calls are in "default" for now)
  --limit N       the newest N calls, 1 to ${MAX_AUDIT_READ} (default 50)
  --json          one JSON object per line instead of a table

The MCP tool calls the sandboxes made through every bridge on this state dir, oldest
first, from <state dir>/history.sqlite3 (MCP_BRIDGE_STATE_DIR, default ~/MCPs).`;

export interface AuditCommandIo {
  stateDir: string;
  logger: Logger;
  /** MCP_BRIDGE_AUDIT_MAX and PYTHON_EXECUTOR_MAX_HISTORY: the bounds of the tables. */
  maxEntries: number;
  maxHistory: number;
  /** Now, epoch ms (for ages). */
  now?: number;
  out(line: string): void;
  err(line: string): void;
}

export interface AuditQuery {
  sinceMs: number | undefined;
  session: string | undefined;
  limit: number;
  json: boolean;
}

const AGE = /^(\d{1,9})([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Session names as run_python will take them: 1–64 of [A-Za-z0-9_.-]. */
const SESSION = /^[A-Za-z0-9_.-]{1,64}$/;

/** `--since`: an age (30m, 2h, 7d, 45s) or an ISO-8601 time; undefined when neither. */
export function parseSince(value: string, now: number): number | undefined {
  const age = AGE.exec(value);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS];
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? time : undefined;
}

/** Parses the options; returns a message for the first bad one. */
export function parseAuditArgs(args: readonly string[], now: number): AuditQuery | string {
  const query: AuditQuery = { sinceMs: undefined, session: undefined, limit: 50, json: false };
  for (let index = 0; index < args.length; index += 1) {
    const option = args[index] ?? '';
    if (option === '--json') {
      query.json = true;
      continue;
    }
    const [name = option, inline] = option.split(/=(.*)/s, 2);
    if (!['--since', '--session', '--limit'].includes(name))
      return `Unknown option ${JSON.stringify(option)}.`;
    const value = inline ?? args[index + 1];
    if (inline === undefined) index += 1;
    if (value === undefined) return `${name} needs a value.`;
    switch (name) {
      case '--since': {
        const since = parseSince(value, now);
        if (since === undefined)
          return `--since ${JSON.stringify(value)}: give an age (30m, 2h, 7d) or an ISO time (2026-12-06T10:00Z).`;
        query.sinceMs = since;
        break;
      }
      case '--session':
        if (!SESSION.test(value))
          return `--session ${JSON.stringify(value)}: a session name is 1 to 64 of A-Z a-z 0-9 _ . -`;
        query.session = value;
        break;
      case '--limit':
        if (!/^\d{1,6}$/.test(value) || Number(value) < 1 || Number(value) > MAX_AUDIT_READ)
          return `--limit ${JSON.stringify(value)}: a whole number from 1 to ${MAX_AUDIT_READ}.`;
        query.limit = Number(value);
        break;
      default:
        return `Unknown option ${JSON.stringify(option)}.`;
    }
  }
  return query;
}

/** One table line per call. */
export function formatCall(call: ProxiedCallRecord): string {
  return [
    new Date(call.at).toISOString(),
    call.session,
    `${call.server}.${call.tool}`,
    call.outcome,
    `${call.durationMs.toFixed(1)}ms`,
    `${call.argumentBytes}B`,
    `sha256:${call.argumentSha256.slice(0, 16)}`,
    `approval:${call.approval}`,
    call.message ?? '',
  ]
    .join('  ')
    .trimEnd();
}

/**
 * `mcp-server-code-execution-mode audit`: the audit trail of proxied calls on the host.
 * Exit codes: 0 done, 2 bad usage.
 */
export function runAuditCommand(args: readonly string[], io: AuditCommandIo): number {
  if (args.includes('--help') || args.includes('-h')) {
    io.err(AUDIT_USAGE);
    return 0;
  }
  const query = parseAuditArgs(args, io.now ?? Date.now());
  if (typeof query === 'string') {
    io.err(`${query}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  const history = HistoryStore.open(io.stateDir, { maxEntries: io.maxHistory, logger: io.logger });
  const audit = new CallAuditStore(history, { maxEntries: io.maxEntries, logger: io.logger });
  try {
    const calls = audit
      .recent(query.limit, { session: query.session, sinceMs: query.sinceMs })
      .reverse();
    if (query.json) {
      for (const call of calls) io.out(JSON.stringify(call));
      return 0;
    }
    if (calls.length === 0) {
      io.out(`No proxied calls recorded (in ${history.file}).`);
      return 0;
    }
    io.out('TIME  SESSION  SERVER.TOOL  OUTCOME  DURATION  ARGUMENTS  DIGEST  APPROVAL  MESSAGE');
    for (const call of calls) io.out(formatCall(call));
    return 0;
  } finally {
    audit.close();
    history.close();
  }
}
