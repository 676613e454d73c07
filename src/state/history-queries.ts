/**
 * The history's queries, prepared once per connection. Newest-first reads walk the rowid
 * b-tree backwards (insertion order, which under the write lock is commit order), so
 * `recent(n)` costs the same with ten rows or a million.
 */
import type Database from 'better-sqlite3';
import { COLUMNS, type HistoryRow } from './history-record.js';
import { migrate } from './history-schema.js';

/** A re-recorded id updates its row in place (same rowid), so rowids stay contiguous. */
const INSERT = `
  INSERT INTO executions (${COLUMNS.join(', ')})
  VALUES (${COLUMNS.map((column) => `@${column}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET
  ${COLUMNS.filter((column) => column !== 'id')
    .map((column) => `${column} = excluded.${column}`)
    .join(', ')}
`;

/**
 * Rows are only ever deleted from the oldest end (this trim) or all at once (clear), and
 * SQLite gives a new row max(rowid) + 1, so the newest `maxEntries` rows are exactly those
 * above max(rowid) - maxEntries: an index seek, not a count or a scan.
 */
const TRIM = `DELETE FROM executions WHERE rowid <= (SELECT max(rowid) FROM executions) - ?`;
const RECENT = `SELECT ${COLUMNS.join(', ')} FROM executions ORDER BY rowid DESC LIMIT ?`;
const RECENT_OF_SESSION = `SELECT ${COLUMNS.join(', ')} FROM executions
  WHERE session = ? ORDER BY rowid DESC LIMIT ?`;
/** One named session of one bridge: walks that bridge's rows (the session index). */
const RECENT_OF_NAMED_SESSION = `SELECT ${COLUMNS.join(', ')} FROM executions
  WHERE session = ? AND session_name = ? ORDER BY rowid DESC LIMIT ?`;
const COUNT = `SELECT count(*) FROM executions`;
const CLEAR = `DELETE FROM executions`;

/** Thrown inside a rehearsal's transaction to roll it back (Connection.rehearse). */
const ROLLED_BACK = new Error('history rehearsal: rolled back');

/** An open database with the history's schema and its prepared queries. */
export interface Connection {
  db: Database.Database;
  /** False for the in-memory fallback. */
  durable: boolean;
  /** Identity of the file this connection opened, to tell it from a replacement. */
  identity: string | undefined;
  /** Inserts the row and trims to maxEntries, in one transaction. */
  write: (row: HistoryRow) => void;
  /**
   * The same transaction as `write`, rolled back at its end: nothing is committed, no
   * reader ever sees the row. Warms the insert path (statements, pages, the binding's
   * code) before the agent's first call (src/server/call-rehearsal.ts).
   */
  rehearse: (row: HistoryRow) => void;
  recent: Database.Statement<[number], HistoryRow>;
  recentOfSession: Database.Statement<[string, number], HistoryRow>;
  recentOfNamedSession: Database.Statement<[string, string, number], HistoryRow>;
  count: Database.Statement<[], number>;
  clear: Database.Statement<[], unknown>;
}

/** Migrates `db` and prepares the queries on it. */
export function prepareConnection(
  db: Database.Database,
  /** `identity` undefined: an in-memory database, not a file. */
  options: { identity: string | undefined; maxEntries: number },
): Connection {
  migrate(db);
  const insert = db.prepare<[HistoryRow], unknown>(INSERT);
  const trim = db.prepare<[number], unknown>(TRIM);
  const transaction = db.transaction((row: HistoryRow, rehearsal: boolean) => {
    insert.run(row);
    trim.run(options.maxEntries);
    if (rehearsal) throw ROLLED_BACK; // better-sqlite3 rolls the transaction back
  });
  return {
    db,
    durable: options.identity !== undefined,
    identity: options.identity,
    // IMMEDIATE takes the write lock first, so waiting for it honours busy_timeout.
    write: (row) => transaction.immediate(row, false),
    rehearse: (row) => {
      try {
        transaction.immediate(row, true);
      } catch (error: unknown) {
        if (error !== ROLLED_BACK) throw error;
      }
    },
    recent: db.prepare<[number], HistoryRow>(RECENT),
    recentOfSession: db.prepare<[string, number], HistoryRow>(RECENT_OF_SESSION),
    recentOfNamedSession: db.prepare<[string, string, number], HistoryRow>(RECENT_OF_NAMED_SESSION),
    count: db.prepare<[], number>(COUNT).pluck(),
    clear: db.prepare<[], unknown>(CLEAR),
  };
}
