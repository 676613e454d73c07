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
 * - Indexed queries: `recent(n)` costs the same with ten rows or a million
 *   (history-queries.ts); `started_at` is indexed for queries by time range.
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
 * The parts: the record (history-record.ts), the schema and its migrations
 * (history-schema.ts), the queries (history-queries.ts), the file on disk
 * (history-file.ts); this module keeps them working together.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { randomHex } from '../util/random-hex.js';
import { isCorrupt, moveAside, openHistoryFile, sameFile } from './history-file.js';
import { prepareConnection, type Connection } from './history-queries.js';
import { fromRow, toRow, type ExecutionRecord } from './history-record.js';

export { MAX_STORED_CODE_BYTES, type ExecutionRecord } from './history-record.js';

export interface HistoryStoreOptions {
  /** PYTHON_EXECUTOR_MAX_HISTORY: older rows are deleted beyond this many. */
  maxEntries: number;
  logger: Logger;
  /** How long a write waits for another process's lock before giving up (default 5 s). */
  busyTimeoutMs?: number;
}

export const HISTORY_FILE = 'history.sqlite3';
/** The most entries one read returns. */
export const MAX_RECENT = 1000;
const BUSY_TIMEOUT_MS = 5000;

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
    return `exec_${Date.now()}_${randomHex(4)}`;
  }

  /**
   * Inserts the entry and trims to maxEntries in one transaction; logs failures, never
   * throws. Returns why the entry could not be recorded (e.g. a full disk), or undefined.
   */
  record(entry: ExecutionRecord): string | undefined {
    try {
      const row = toRow(entry);
      this.#run('record', (connection) => connection.write(row));
      return undefined;
    } catch (error: unknown) {
      this.#logger.error(
        { err: String(error), file: this.file, executionId: entry.id },
        'history: could not record an execution; it is left out of the history',
      );
      return `${errorMessage(error)} (${this.file})`;
    }
  }

  /**
   * Runs `record`'s transaction for the entry and rolls it back: nothing is stored, no
   * reader sees it. The bridge's call rehearsal at pre-warm (src/server/call-rehearsal.ts)
   * uses it so the agent's first insert finds its path warm. Never throws.
   */
  rehearse(entry: ExecutionRecord): string | undefined {
    try {
      const row = toRow(entry);
      this.#run('rehearse', (connection) => connection.rehearse(row));
      return undefined;
    } catch (error: unknown) {
      this.#logger.debug({ err: String(error), file: this.file }, 'history: rehearsal failed');
      return errorMessage(error);
    }
  }

  /**
   * The newest executions first; `limit` is clamped to 1..1000. With `session`, only the
   * executions of that bridge process (what its sandbox may read); with `sessionName` too,
   * only those of that named session of it.
   */
  recent(
    limit: number,
    options: { session?: string; sessionName?: string } = {},
  ): ExecutionRecord[] {
    const clamped = Number.isFinite(limit)
      ? Math.min(MAX_RECENT, Math.max(1, Math.trunc(limit)))
      : 20;
    const { session, sessionName } = options;
    return (
      this.#run('read', (connection) =>
        (session === undefined
          ? connection.recent.all(clamped)
          : sessionName === undefined
            ? connection.recentOfSession.all(session, clamped)
            : connection.recentOfNamedSession.all(session, sessionName, clamped)
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

  /**
   * Runs `action` on the history's database, for the tables that share its file (the
   * audit trail, call-audit-store.ts). Undefined once closed; a damaged file is replaced
   * as for the history's own operations, and other errors are thrown.
   */
  useDatabase<T>(operation: string, action: (db: Database.Database) => T): T | undefined {
    return this.#run(operation, (connection) => action(connection.db));
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
      if (sameFile(this.file, connection.identity)) moveAside(this.file, this.#logger);
      this.#connection = this.#openFile() ?? this.#openMemory();
      return action(this.#connection);
    }
  }

  #openFile(): Connection | undefined {
    return openHistoryFile(this.file, {
      busyTimeoutMs: this.#busyTimeoutMs,
      maxEntries: this.#maxEntries,
      logger: this.#logger,
    });
  }

  /** When no file can be used: this process keeps its history in memory. */
  #openMemory(): Connection {
    return prepareConnection(new Database(':memory:'), {
      identity: undefined,
      maxEntries: this.#maxEntries,
    });
  }
}
