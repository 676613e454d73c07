/**
 * The history file's schema and its migrations. Schema changes bump SCHEMA_VERSION
 * (PRAGMA user_version) and add a migration step. An added index is not a schema change:
 * older bridges read and write the file unchanged, so it is created when missing without
 * a version bump (which would lock older bridges out).
 */
import type Database from 'better-sqlite3';
import { columnDefinitions } from './history-record.js';
import { DEFAULT_SESSION } from '../util/default-session.js';

const SCHEMA_VERSION = 1;

/** The table of the current record (history-record.ts): what a new file starts with. */
const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS executions (
    ${columnDefinitions().join(',\n    ')}
  ) STRICT;
  CREATE INDEX IF NOT EXISTS executions_started_at ON executions (started_at);
`;

/**
 * Columns added after schema version 1, each with a default so that older bridges (which
 * name their columns) still insert: added when missing, without a version bump.
 */
const ADDED_COLUMNS = [
  { name: 'session_name', definition: `TEXT NOT NULL DEFAULT '${DEFAULT_SESSION}'` },
];

/** Owner reads walk this index (entries are (session, rowid): newest last). */
const SESSION_INDEX = 'executions_session';
const CREATE_SESSION_INDEX = `CREATE INDEX IF NOT EXISTS ${SESSION_INDEX} ON executions (session)`;

/** The file was written by a newer bridge: it is left untouched. */
export class SchemaTooNewError extends Error {}

/** Brings the database to SCHEMA_VERSION; safe when several processes open it at once. */
export function migrate(db: Database.Database): void {
  const current = (): number => Number(db.pragma('user_version', { simple: true }));
  if (current() === SCHEMA_VERSION) {
    ensureSessionIndex(db);
    ensureAddedColumns(db);
    return;
  }
  db.transaction(() => {
    // Read again under the write lock: another process may have just done it.
    const version = current();
    if (version > SCHEMA_VERSION) {
      throw new SchemaTooNewError(
        `schema version ${version}; this bridge knows up to ${SCHEMA_VERSION}`,
      );
    }
    if (version === 0) db.exec(CREATE_TABLE);
    db.exec(CREATE_SESSION_INDEX);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
  ensureAddedColumns(db);
}

/** Files written before a column was added lack it: add it (once, any process). */
function ensureAddedColumns(db: Database.Database): void {
  const present = (): Set<string> =>
    new Set(
      (db.pragma('table_info(executions)') as { name: string }[]).map((column) => column.name),
    );
  if (ADDED_COLUMNS.every((column) => present().has(column.name))) return;
  db.transaction(() => {
    // Read again under the write lock: another process may have just added them.
    const columns = present();
    for (const column of ADDED_COLUMNS) {
      if (!columns.has(column.name)) {
        db.exec(`ALTER TABLE executions ADD COLUMN ${column.name} ${column.definition}`);
      }
    }
  }).immediate();
}

/** Files written before records had owner reads lack the index: add it (once, any process). */
function ensureSessionIndex(db: Database.Database): void {
  const exists = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`)
    .pluck()
    .get(SESSION_INDEX);
  if (!exists) db.exec(CREATE_SESSION_INDEX);
}
