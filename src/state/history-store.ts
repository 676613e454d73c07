/**
 * The durable execution history (README, history): one row per execution of
 * `run_python` or `execute_python_code`, in `<stateDir>/history.sqlite3`.
 *
 * Why SQLite (through better-sqlite3) rather than a JSON or JSON-lines file:
 * - A crash mid-write loses nothing that was committed and never leaves a half-written
 *   record: every write is one transaction, and in WAL mode a commit is a single append to
 *   the write-ahead log that either made it or did not. A JSON file would need a full
 *   rewrite (temp file + rename) per execution; JSON lines would need its own torn-line
 *   recovery and its own trimming.
 * - Several bridge processes may share one state dir (several MCP clients, or one client
 *   starting the bridge twice). SQLite's file locks serialise their writers and
 *   `busy_timeout` makes a writer wait for the lock (at most 5 s) instead of failing; WAL
 *   lets readers go on while one process writes. Our transactions take well under a
 *   millisecond, so the wait is short in practice.
 * - Bounded size: the insert and the DELETE of the oldest rows beyond
 *   PYTHON_EXECUTOR_MAX_HISTORY happen in the same transaction, so the bound holds at
 *   every commit, whichever process writes. Freed pages are reused, so the file stops
 *   growing once the bound is reached.
 * - Indexed queries: newest-first reads walk the rowid b-tree backwards (insertion order,
 *   which under the write lock is commit order), so `recent(n)` costs the same with ten
 *   rows or a million; `started_at` is indexed for queries by time range.
 *
 * synchronous=NORMAL, not FULL: in WAL mode NORMAL still keeps the database consistent
 * after any crash, and a commit is durable once it is in the OS page cache, which is what
 * survives the bridge being killed (the failure we expect). Only a power cut or kernel
 * crash may undo the last few commits, never corrupt the file; FULL would add an fsync to
 * every execution's bookkeeping for that, and an execution's history entry is not worth it.
 *
 * The history is bookkeeping: it must never stop the bridge nor change an execution's
 * result. `record()` never throws (failures are logged). A corrupt or unreadable database
 * file is logged, moved aside as `history.sqlite3.corrupt-<time>` and replaced by a fresh
 * one, whether that shows when opening or later. If no file can be used at all (read-only
 * or full disk), the store keeps its history in memory for this process and says so in
 * the log.
 *
 * Ownership: `session` is a random id per bridge process. Several MCP clients may run
 * bridges on one state dir, and the code of one client's executions is not the business
 * of another client's sandbox: the sandbox's `history` request reads only its own
 * bridge's rows (`recent(limit, { session })`, through the `executions_session` index).
 * Host-side readers (the executor tools) read every row.
 *
 * Schema changes bump SCHEMA_VERSION (PRAGMA user_version) and add a migration step. An
 * added index is not a schema change: older bridges read and write the file unchanged, so
 * it is created when missing without a version bump (which would lock older bridges out).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';

export interface ExecutionRecord {
  /** `exec_<ms>_<random>`, from newId(). */
  id: string;
  /** The bridge process that ran it (a random id per process): the record's owner. */
  session: string;
  /** 'run_python' | 'execute_python_code'. */
  tool: string;
  /** The code that ran, cut to MAX_STORED_CODE_BYTES (UTF-8) with a marker. */
  code: string;
  status: string;
  exitCode: number | null;
  /** ISO 8601. */
  startedAt: string;
  completedAt: string;
  durationMs: number;
  stdoutChars: number;
  stderrChars: number;
  /** MCP servers the execution loaded. */
  servers: string[];
  error: string | null;
}

export interface HistoryStoreOptions {
  /** PYTHON_EXECUTOR_MAX_HISTORY: older rows are deleted beyond this many. */
  maxEntries: number;
  logger: Logger;
  /** How long a write waits for another process's lock before giving up (default 5 s). */
  busyTimeoutMs?: number;
}

export const HISTORY_FILE = 'history.sqlite3';
export const SCHEMA_VERSION = 1;
export const MAX_STORED_CODE_BYTES = 64 * 1024;
export const MAX_RECENT = 1000;
const MAX_ERROR_CHARS = 8 * 1024;
const MAX_SHORT_CHARS = 256;
const MAX_SERVERS = 100;
const BUSY_TIMEOUT_MS = 5000;
/** Bytes the WAL file is cut back to after a checkpoint (it may grow past it meanwhile). */
const WAL_SIZE_LIMIT = 8 * 1024 * 1024;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY NOT NULL,
    session TEXT NOT NULL,
    tool TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER,
    started_at TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    stdout_chars INTEGER NOT NULL,
    stderr_chars INTEGER NOT NULL,
    servers TEXT NOT NULL DEFAULT '[]',
    error TEXT
  ) STRICT;
  CREATE INDEX IF NOT EXISTS executions_started_at ON executions (started_at);
`;

/** Owner reads walk this index (entries are (session, rowid): newest last). */
const SESSION_INDEX = 'executions_session';
const CREATE_SESSION_INDEX = `CREATE INDEX IF NOT EXISTS ${SESSION_INDEX} ON executions (session)`;

const COLUMNS = [
  'id',
  'session',
  'tool',
  'code',
  'status',
  'exit_code',
  'started_at',
  'completed_at',
  'duration_ms',
  'stdout_chars',
  'stderr_chars',
  'servers',
  'error',
] as const;

type Row = {
  id: string;
  session: string;
  tool: string;
  code: string;
  status: string;
  exit_code: number | null;
  started_at: string;
  completed_at: string;
  duration_ms: number;
  stdout_chars: number;
  stderr_chars: number;
  servers: string;
  error: string | null;
};

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
const COUNT = `SELECT count(*) FROM executions`;
const CLEAR = `DELETE FROM executions`;

interface Connection {
  db: Database.Database;
  /** False for the in-memory fallback. */
  durable: boolean;
  /** Identity of the file this connection opened, to tell it from a replacement. */
  identity: string | undefined;
  write: (row: Row) => void;
  recent: Database.Statement<[number], Row>;
  recentOfSession: Database.Statement<[string, number], Row>;
  count: Database.Statement<[], number>;
  clear: Database.Statement<[], unknown>;
}

class SchemaTooNewError extends Error {}

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

export class HistoryStore {
  /** `<stateDir>/history.sqlite3`; see `durable` for whether it is in use. */
  readonly file: string;
  readonly #maxEntries: number;
  readonly #logger: Logger;
  readonly #busyTimeoutMs: number;
  #connection: Connection | undefined;

  private constructor(file: string, options: HistoryStoreOptions) {
    this.file = file;
    this.#maxEntries = Math.max(1, Math.trunc(options.maxEntries) || 1);
    this.#logger = options.logger;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  }

  /**
   * Opens (creating if needed) `<stateDir>/history.sqlite3`: folder 0700, file 0600, WAL,
   * busy_timeout 5 s. Never throws: a damaged file is moved aside and replaced, and when
   * no file can be used the history is kept in memory.
   */
  static open(stateDir: string, options: HistoryStoreOptions): HistoryStore {
    const store = new HistoryStore(path.join(stateDir, HISTORY_FILE), options);
    store.#connection = store.#openFile() ?? store.#openMemory();
    return store;
  }

  /** False when the history only lives in memory because the file could not be used. */
  get durable(): boolean {
    return this.#connection?.durable ?? false;
  }

  newId(): string {
    return `exec_${Date.now()}_${randomBytes(4).toString('hex')}`;
  }

  /**
   * Inserts the entry and trims to maxEntries in one transaction; logs failures, never
   * throws. Returns why the entry could not be recorded (e.g. a full disk), or undefined.
   */
  record(entry: ExecutionRecord): string | undefined {
    let row: Row;
    try {
      row = toRow(entry, () => this.newId());
    } catch (error: unknown) {
      this.#logger.error({ err: String(error) }, 'history: could not record an execution');
      return String(error);
    }
    try {
      this.#run('record', (connection) => connection.write(row));
      return undefined;
    } catch (error: unknown) {
      this.#logger.error(
        { err: String(error), file: this.file, executionId: row.id },
        'history: could not record an execution; it is left out of the history',
      );
      return `${error instanceof Error ? error.message : String(error)} (${this.file})`;
    }
  }

  /**
   * The newest executions first; `limit` is clamped to 1..1000. With `session`, only the
   * executions of that bridge process (what its sandbox may read).
   */
  recent(limit: number, options: { session?: string } = {}): ExecutionRecord[] {
    const clamped = Number.isFinite(limit)
      ? Math.min(MAX_RECENT, Math.max(1, Math.trunc(limit)))
      : 20;
    const { session } = options;
    return (
      this.#run('read', (connection) =>
        (session === undefined
          ? connection.recent.all(clamped)
          : connection.recentOfSession.all(session, clamped)
        ).map(fromRow),
      ) ?? []
    );
  }

  count(): number {
    return this.#run('count', (connection) => connection.count.get() ?? 0) ?? 0;
  }

  /** Deletes every entry (in every process sharing the file); returns how many. */
  clear(): number {
    const cleared = this.#run('clear', (connection) => connection.clear.run().changes) ?? 0;
    // Best effort: give the pages back to the file system and empty the WAL, so the cleared
    // code does not linger on disk. Another process reading at that moment may hold the WAL.
    try {
      const db = this.#connection?.db;
      if (db && this.#connection?.durable) {
        db.pragma('incremental_vacuum');
        db.pragma('wal_checkpoint(TRUNCATE)');
      }
    } catch (error: unknown) {
      this.#logger.warn({ err: String(error), file: this.file }, 'history: compaction failed');
    }
    return cleared;
  }

  /** Idempotent; later calls see an empty history and record nothing. */
  close(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    try {
      connection.db.pragma('optimize');
    } catch {
      // Only a hint to the query planner.
    }
    try {
      connection.db.close();
    } catch (error: unknown) {
      this.#logger.warn({ err: String(error), file: this.file }, 'history: close failed');
    }
  }

  /**
   * Runs one operation; when it meets a damaged database, moves the file aside, opens a
   * fresh one and runs it once more there. Other errors are thrown. Undefined once closed.
   */
  #run<T>(operation: string, action: (connection: Connection) => T): T | undefined {
    const connection = this.#connection;
    if (!connection) return undefined;
    try {
      return action(connection);
    } catch (error: unknown) {
      if (!connection.durable || !isCorrupt(error)) throw error;
      this.#logger.error(
        { err: String(error), file: this.file, operation },
        'history: the database file is damaged; starting a fresh one',
      );
      this.#connection = undefined;
      try {
        connection.db.close();
      } catch {
        // The connection is being thrown away.
      }
      if (sameFile(this.file, connection.identity)) this.#moveAside();
      this.#connection = this.#openFile() ?? this.#openMemory();
      return action(this.#connection);
    }
  }

  #openFile(): Connection | undefined {
    try {
      mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    } catch (error: unknown) {
      this.#logger.error(
        { err: String(error), file: this.file },
        'history: cannot create the state folder; keeping the history in memory only',
      );
      return undefined;
    }
    for (let attempt = 1; ; attempt += 1) {
      const before = fileIdentity(this.file);
      try {
        return this.#connect(this.file);
      } catch (error: unknown) {
        if (error instanceof SchemaTooNewError) {
          this.#logger.error(
            { err: error.message, file: this.file },
            'history: the database was written by a newer version; leaving it untouched and keeping the history in memory only',
          );
          return undefined;
        }
        if (attempt === 1 && before !== undefined && isUnusableFile(this.file, error)) {
          this.#logger.error(
            { err: String(error), file: this.file },
            'history: the database file is damaged or unreadable; starting a fresh one',
          );
          // Another process may have replaced it already: then just open theirs.
          if (fileIdentity(this.file) === before && !this.#moveAside()) return undefined;
          continue;
        }
        this.#logger.error(
          { err: String(error), file: this.file },
          'history: cannot open the database; keeping the history in memory only',
        );
        return undefined;
      }
    }
  }

  #openMemory(): Connection {
    return this.#prepare(new Database(':memory:'), false, undefined);
  }

  #connect(file: string): Connection {
    // Create the file ourselves so it is 0600 from the start (SQLite would honour the
    // umask); its -wal and -shm files take the database file's mode. O_NONBLOCK: a FIFO in
    // its place must not hang the bridge.
    const fd = openSync(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK,
      0o600,
    );
    let identity: string;
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      identity = `${stat.dev}:${stat.ino}`;
    } finally {
      closeSync(fd);
    }
    const db = new Database(file, { timeout: this.#busyTimeoutMs });
    try {
      // Only takes effect on a new, empty file: lets clear() hand pages back.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        this.#logger.warn({ file, mode }, 'history: WAL mode is not available here');
      }
      db.pragma('synchronous = NORMAL');
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      return this.#prepare(db, true, identity);
    } catch (error: unknown) {
      db.close();
      throw error;
    }
  }

  #prepare(db: Database.Database, durable: boolean, identity: string | undefined): Connection {
    migrate(db);
    const insert = db.prepare<[Row], unknown>(INSERT);
    const trim = db.prepare<[number], unknown>(TRIM);
    const maxEntries = this.#maxEntries;
    const transaction = db.transaction((row: Row) => {
      insert.run(row);
      trim.run(maxEntries);
    });
    return {
      db,
      durable,
      identity,
      // IMMEDIATE takes the write lock first, so waiting for it honours busy_timeout.
      write: (row) => transaction.immediate(row),
      recent: db.prepare<[number], Row>(RECENT),
      recentOfSession: db.prepare<[string, number], Row>(RECENT_OF_SESSION),
      count: db.prepare<[], number>(COUNT).pluck(),
      clear: db.prepare<[], unknown>(CLEAR),
    };
  }

  /** Renames the file (and its WAL) to `<file>.corrupt-<time>`; false if that failed. */
  #moveAside(): boolean {
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.file, aside);
    } catch (error: unknown) {
      this.#logger.error(
        { err: String(error), file: this.file },
        'history: cannot move the damaged database aside; keeping the history in memory only',
      );
      return false;
    }
    try {
      renameSync(`${this.file}-wal`, `${aside}-wal`);
    } catch {
      // No WAL: nothing to keep.
    }
    rmSync(`${this.file}-shm`, { force: true });
    this.#logger.error(
      { file: this.file, movedTo: aside },
      'history: damaged database moved aside',
    );
    return true;
  }
}

function migrate(db: Database.Database): void {
  const current = (): number => Number(db.pragma('user_version', { simple: true }));
  if (current() === SCHEMA_VERSION) {
    ensureSessionIndex(db);
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
    if (version === 0) db.exec(SCHEMA);
    db.exec(CREATE_SESSION_INDEX);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
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

/** Errors that mean the database content is bad, as opposed to the disk, a lock or a full disk. */
function isCorrupt(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
  );
}

/**
 * When opening failed: is the file itself unusable (corrupt, not a regular file, or one we
 * may not read and write)? Not when the cause lies elsewhere (a read-only folder, no free
 * file descriptors, a lock held too long): a healthy file is never moved aside for that.
 */
function isUnusableFile(file: string, error: unknown): boolean {
  if (isCorrupt(error)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r+');
    return !fstatSync(fd).isFile();
  } catch (openError: unknown) {
    const code = (openError as { code?: unknown }).code;
    return code === 'EACCES' || code === 'EPERM' || code === 'EISDIR';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileIdentity(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

function sameFile(file: string, identity: string | undefined): boolean {
  return identity !== undefined && fileIdentity(file) === identity;
}

function shortText(value: unknown, max = MAX_SHORT_CHARS): string {
  return (typeof value === 'string' ? value : '').slice(0, max);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.trunc(value)) : 0;
}

function toRow(entry: ExecutionRecord, newId: () => string): Row {
  const servers = Array.isArray(entry.servers)
    ? entry.servers
        .filter((name): name is string => typeof name === 'string')
        .slice(0, MAX_SERVERS)
        .map((name) => name.slice(0, MAX_SHORT_CHARS))
    : [];
  let error: string | null = null;
  if (entry.error !== null && entry.error !== undefined) {
    const text = String(entry.error);
    error =
      text.length > MAX_ERROR_CHARS
        ? `${text.slice(0, MAX_ERROR_CHARS)}… [${text.length - MAX_ERROR_CHARS} more characters]`
        : text;
  }
  return {
    id: shortText(entry.id, 128) || newId(),
    session: shortText(entry.session),
    tool: shortText(entry.tool),
    code: truncateStoredCode(typeof entry.code === 'string' ? entry.code : ''),
    status: shortText(entry.status),
    exit_code:
      typeof entry.exitCode === 'number' && Number.isSafeInteger(entry.exitCode)
        ? entry.exitCode
        : null,
    started_at: shortText(entry.startedAt, 64),
    completed_at: shortText(entry.completedAt, 64),
    duration_ms:
      typeof entry.durationMs === 'number' && Number.isFinite(entry.durationMs)
        ? Math.max(0, entry.durationMs)
        : 0,
    stdout_chars: count(entry.stdoutChars),
    stderr_chars: count(entry.stderrChars),
    servers: JSON.stringify(servers),
    error,
  };
}

function fromRow(row: Row): ExecutionRecord {
  let servers: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.servers);
    if (Array.isArray(parsed)) {
      servers = parsed.filter((name): name is string => typeof name === 'string');
    }
  } catch {
    // Leave it empty.
  }
  return {
    id: row.id,
    session: row.session,
    tool: row.tool,
    code: row.code,
    status: row.status,
    exitCode: row.exit_code,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    durationMs: row.duration_ms,
    stdoutChars: row.stdout_chars,
    stderrChars: row.stderr_chars,
    servers,
    error: row.error,
  };
}
