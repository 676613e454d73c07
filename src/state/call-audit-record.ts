/**
 * One proxied MCP call (sandbox → bridge → upstream server) in the audit trail: what the
 * `proxied_calls` table holds, and how a call becomes a row. The table lives in the
 * history file (history-store.ts) and is added without a schema version bump, like an
 * index: older bridges neither read nor mind it.
 */
import { createHash } from 'node:crypto';

export type CallOutcome = 'ok' | 'error' | 'refused';

/** Stored arguments (MCP_BRIDGE_AUDIT_ARGS=1) are cut to this many bytes of JSON. */
export const MAX_STORED_ARGUMENT_BYTES = 64 * 1024;
/** A call's message (why it failed or was refused) is cut to this many characters. */
export const MAX_MESSAGE_CHARS = 200;
/** Until approvals exist, no call was asked about. */
export const NO_APPROVAL = 'none';

export interface ProxiedCallRecord {
  /** When the call started, epoch ms. */
  at: number;
  /** The bridge process that made it (a random id per process, as in the history). */
  bridge: string;
  /** The named session it ran in (run_python's `session`, `default` when not given). */
  session: string;
  server: string;
  tool: string;
  /** Bytes of the arguments' JSON, as sent to the server. */
  argumentBytes: number;
  /** sha256 of those bytes, hex. */
  argumentSha256: string;
  /** The JSON itself, only with MCP_BRIDGE_AUDIT_ARGS=1, cut to 64 KiB; else null. */
  arguments: string | null;
  outcome: CallOutcome;
  /** Why it failed or was refused (cut to 200 characters); null when ok. */
  message: string | null;
  durationMs: number;
  /** The approval decision (`none` until approvals exist). */
  approval: string;
}

/** The table's columns, in order, with their SQL types. */
const COLUMN_TYPES = {
  at: 'INTEGER NOT NULL',
  bridge: 'TEXT NOT NULL',
  session: 'TEXT NOT NULL',
  server: 'TEXT NOT NULL',
  tool: 'TEXT NOT NULL',
  argument_bytes: 'INTEGER NOT NULL',
  argument_sha256: 'TEXT NOT NULL',
  arguments: 'TEXT',
  outcome: 'TEXT NOT NULL',
  message: 'TEXT',
  duration_ms: 'REAL NOT NULL',
  approval: 'TEXT NOT NULL',
} as const;

export type AuditColumn = keyof typeof COLUMN_TYPES;
export const AUDIT_COLUMNS = Object.keys(COLUMN_TYPES) as AuditColumn[];

export const CREATE_AUDIT_TABLE = `
  CREATE TABLE IF NOT EXISTS proxied_calls (
    ${AUDIT_COLUMNS.map((column) => `${column} ${COLUMN_TYPES[column]}`).join(',\n    ')}
  ) STRICT;
  CREATE INDEX IF NOT EXISTS proxied_calls_owner ON proxied_calls (bridge, session);
  CREATE INDEX IF NOT EXISTS proxied_calls_at ON proxied_calls (at);
`;

export interface AuditRow {
  at: number;
  bridge: string;
  session: string;
  server: string;
  tool: string;
  argument_bytes: number;
  argument_sha256: string;
  arguments: string | null;
  outcome: string;
  message: string | null;
  duration_ms: number;
  approval: string;
}

export function toAuditRow(record: ProxiedCallRecord): AuditRow {
  return {
    at: Math.trunc(record.at),
    bridge: record.bridge,
    session: record.session,
    server: record.server,
    tool: record.tool,
    argument_bytes: record.argumentBytes,
    argument_sha256: record.argumentSha256,
    arguments: record.arguments,
    outcome: record.outcome,
    message: record.message,
    duration_ms: record.durationMs,
    approval: record.approval,
  };
}

export function fromAuditRow(row: AuditRow): ProxiedCallRecord {
  return {
    at: row.at,
    bridge: row.bridge,
    session: row.session,
    server: row.server,
    tool: row.tool,
    argumentBytes: row.argument_bytes,
    argumentSha256: row.argument_sha256,
    arguments: row.arguments,
    outcome: row.outcome as CallOutcome,
    message: row.message,
    durationMs: row.duration_ms,
    approval: row.approval,
  };
}

/** Size and digest of the arguments' JSON; the JSON itself only when asked, bounded. */
export function describeArguments(
  json: string,
  storeArguments: boolean,
): Pick<ProxiedCallRecord, 'argumentBytes' | 'argumentSha256' | 'arguments'> {
  const bytes = Buffer.from(json, 'utf8');
  return {
    argumentBytes: bytes.length,
    argumentSha256: createHash('sha256').update(bytes).digest('hex'),
    arguments: storeArguments ? cutBytes(bytes, MAX_STORED_ARGUMENT_BYTES) : null,
  };
}

/** The first `max` bytes as text (never half a character), marked when cut. */
function cutBytes(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  // Decoding a cut multi-byte character gives U+FFFD; drop it.
  const text = bytes
    .subarray(0, max)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${text}… [cut: ${bytes.length} bytes in all]`;
}

/** One line of at most MAX_MESSAGE_CHARS, for a failure or refusal. */
export function shortMessage(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_MESSAGE_CHARS ? line : `${line.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}
