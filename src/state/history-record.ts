import { DEFAULT_SESSION } from '../util/default-session.js';

/**
 * One execution in the history, defined once: RECORD_FIELDS names every field with its
 * SQLite column. The record's type, the table's columns, the row's type and the mapping
 * between record and row are all derived from it; adding a field is one line here (and a
 * migration step in history-schema.ts).
 */

type SqlType = 'TEXT' | 'INTEGER' | 'REAL';

interface FieldSpec {
  type: SqlType;
  primaryKey?: true;
  /** May be null; otherwise the column is NOT NULL. */
  nullable?: true;
  /** A list of strings, stored as JSON text. */
  list?: true;
  /** The column's default (a plain word: written into the SQL as is). */
  defaultText?: string;
}

const RECORD_FIELDS = {
  /** `exec_<ms>_<random>`, from HistoryStore.newId(). */
  id: { type: 'TEXT', primaryKey: true },
  /** The bridge process that ran it (a random id per process): the record's owner. */
  session: { type: 'TEXT' },
  /** 'run_python' | 'execute_python_code'. */
  tool: { type: 'TEXT' },
  /** The code that ran, cut to MAX_STORED_CODE_BYTES (UTF-8) with a marker. */
  code: { type: 'TEXT' },
  status: { type: 'TEXT' },
  exitCode: { type: 'INTEGER', nullable: true },
  /** ISO 8601. */
  startedAt: { type: 'TEXT' },
  /** ISO 8601. */
  completedAt: { type: 'TEXT' },
  durationMs: { type: 'REAL' },
  stdoutChars: { type: 'INTEGER' },
  stderrChars: { type: 'INTEGER' },
  /** MCP servers the execution loaded. */
  servers: { type: 'TEXT', list: true },
  /** Why it failed, cut to MAX_ERROR_CHARS. */
  error: { type: 'TEXT', nullable: true },
  /**
   * The named session it ran in (run_python's `session`). Added to older files without a
   * version bump (history-schema.ts): its default lets older bridges insert without it.
   */
  sessionName: { type: 'TEXT', defaultText: DEFAULT_SESSION },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof RECORD_FIELDS;
type FieldName = keyof Fields;

type Scalar<F extends FieldSpec> =
  (F['type'] extends 'TEXT' ? string : number) | (F extends { nullable: true } ? null : never);

/** One execution as the store takes and returns it. */
export type ExecutionRecord = {
  -readonly [K in FieldName]: Fields[K] extends { list: true } ? string[] : Scalar<Fields[K]>;
};

/** camelCase → snake_case, for column names. */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/** One execution as a row of the `executions` table. */
export type HistoryRow = { [K in FieldName as SnakeCase<K>]: Scalar<Fields[K]> };

/** Each field with its column name, in the record's order. */
const FIELD_COLUMNS = (Object.keys(RECORD_FIELDS) as FieldName[]).map((field) => ({
  field,
  column: field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) as keyof HistoryRow,
}));

/** The table's columns, in the record's order. */
export const COLUMNS = FIELD_COLUMNS.map(({ column }) => column);

/** The column definitions of `CREATE TABLE executions`. */
export function columnDefinitions(): string[] {
  return FIELD_COLUMNS.map(({ field, column }) => {
    const spec: FieldSpec = RECORD_FIELDS[field];
    const constraints = [
      spec.primaryKey ? 'PRIMARY KEY' : '',
      spec.nullable ? '' : 'NOT NULL',
      spec.list ? "DEFAULT '[]'" : '',
      spec.defaultText === undefined ? '' : `DEFAULT '${spec.defaultText}'`,
    ].filter(Boolean);
    return [column, spec.type, ...constraints].join(' ');
  });
}

export const MAX_STORED_CODE_BYTES = 64 * 1024;
const MAX_ERROR_CHARS = 8 * 1024;

/**
 * The code as stored: at most `maxBytes` of UTF-8 (cut at a character boundary) followed
 * by a Python comment saying how much there was.
 */
export function truncateStoredCode(code: string, maxBytes = MAX_STORED_CODE_BYTES): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short code needs no measuring.
  if (code.length * 3 <= maxBytes) return code;
  const total = Buffer.byteLength(code, 'utf8');
  if (total <= maxBytes) return code;
  const { read, written } = new TextEncoder().encodeInto(code, new Uint8Array(maxBytes));
  return `${code.slice(0, read)}\n# [history: code truncated, ${written} of ${total} bytes kept]`;
}

function truncateError(error: string | null): string | null {
  if (error === null || error.length <= MAX_ERROR_CHARS) return error;
  return `${error.slice(0, MAX_ERROR_CHARS)}… [${error.length - MAX_ERROR_CHARS} more characters]`;
}

/**
 * The record as a row. The record is typed by the code that builds it (from validated
 * frames and the bridge's own clock); only what the agent controls is bounded here: the
 * code and the error text, which may quote it.
 */
export function toRow(record: ExecutionRecord): HistoryRow {
  const row: Record<string, unknown> = {};
  for (const { field, column } of FIELD_COLUMNS) row[column] = record[field];
  return {
    ...(row as HistoryRow),
    code: truncateStoredCode(record.code),
    servers: JSON.stringify(record.servers),
    error: truncateError(record.error),
  };
}

/** A row as a record; the servers list is read defensively (the file is outside input). */
export function fromRow(row: HistoryRow): ExecutionRecord {
  const record: Record<string, unknown> = {};
  for (const { field, column } of FIELD_COLUMNS) record[field] = row[column];
  return { ...(record as ExecutionRecord), servers: parseServers(row.servers) };
}

function parseServers(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed)
      ? parsed.filter((name): name is string => typeof name === 'string')
      : [];
  } catch {
    return [];
  }
}
