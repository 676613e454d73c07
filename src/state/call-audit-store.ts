/**
 * The audit trail of proxied MCP calls (README, "Audit trail"): one row per call the
 * sandbox made through the bridge, in the `proxied_calls` table of the history file.
 *
 * Writes stay off the proxied call's path: `record()` only queues the row; the queue is
 * written in one transaction a moment later (or at once when it grows long, when someone
 * reads, and at close). A bridge killed outright loses at most that moment's calls. The
 * table is bounded like the history: each write deletes the rows beyond `maxEntries`,
 * oldest first, in the same transaction. Like the history it is bookkeeping: failures are
 * logged, never thrown at the call.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import {
  AUDIT_COLUMNS,
  CREATE_AUDIT_TABLE,
  fromAuditRow,
  toAuditRow,
  type AuditRow,
  type ProxiedCallRecord,
} from './call-audit-record.js';
import type { HistoryStore } from './history-store.js';

export interface CallAuditStoreOptions {
  /** MCP_BRIDGE_AUDIT_MAX: rows kept. */
  maxEntries: number;
  logger: Logger;
  /** How long a queued row waits before the batch is written (default 200 ms). */
  flushDelayMs?: number;
}

/** A batch this long is written at once. */
const FLUSH_AT = 256;
/**
 * Rows that may wait while the database cannot be written (a full disk, a lock held too
 * long); beyond it the oldest waiting ones are dropped, and the loss is logged.
 */
const MAX_PENDING = 10_000;
/** The most rows one read returns. */
export const MAX_AUDIT_READ = 10_000;

const INSERT = `INSERT INTO proxied_calls (${AUDIT_COLUMNS.join(', ')})
  VALUES (${AUDIT_COLUMNS.map((column) => `@${column}`).join(', ')})`;
// Rows are deleted only from the oldest end, so the newest N are those above max - N.
const TRIM = `DELETE FROM proxied_calls WHERE rowid <= (SELECT max(rowid) FROM proxied_calls) - ?`;

/** Which rows a read returns. */
export interface AuditFilter {
  bridge?: string | undefined;
  session?: string | undefined;
  /** Calls that started at or after this time, epoch ms. */
  sinceMs?: number | undefined;
}

interface Prepared {
  write: (rows: AuditRow[]) => void;
}

export class CallAuditStore {
  readonly #history: HistoryStore;
  readonly #maxEntries: number;
  readonly #logger: Logger;
  readonly #flushDelayMs: number;
  readonly #prepared = new WeakMap<Database.Database, Prepared>();
  #pending: ProxiedCallRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  #closed = false;

  constructor(history: HistoryStore, options: CallAuditStoreOptions) {
    this.#history = history;
    this.#maxEntries = Math.max(1, Math.trunc(options.maxEntries) || 1);
    this.#logger = options.logger;
    this.#flushDelayMs = options.flushDelayMs ?? 200;
  }

  /** Queues one call; written shortly (never throws, never waits for the disk). */
  record(entry: ProxiedCallRecord): void {
    if (this.#closed) return;
    this.#pending.push(entry);
    if (this.#pending.length > MAX_PENDING) {
      const excess = this.#pending.length - MAX_PENDING;
      this.#pending.splice(0, excess);
      this.#dropped += excess;
    }
    if (this.#pending.length >= FLUSH_AT) {
      this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#flushDelayMs).unref();
  }

  /** Writes what is queued, in one transaction; on failure keeps it queued and logs. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    try {
      this.#history.useDatabase('audit write', (db) =>
        this.#statements(db).write(batch.map(toAuditRow)),
      );
    } catch (error: unknown) {
      // Kept for the next attempt (bounded by MAX_PENDING).
      this.#pending = [...batch, ...this.#pending].slice(-MAX_PENDING);
      this.#logger.error(
        { err: String(error), calls: batch.length },
        'audit: could not write proxied calls; they wait for the next attempt',
      );
    }
    if (this.#dropped > 0) {
      this.#logger.error(
        { dropped: this.#dropped },
        'audit: proxied calls were left out of the audit trail (the database could not be written)',
      );
      this.#dropped = 0;
    }
  }

  /** The newest calls first (what is queued included); `limit` within 1..10,000. */
  recent(limit: number, filter: AuditFilter = {}): ProxiedCallRecord[] {
    this.flush();
    const clamped = Math.min(MAX_AUDIT_READ, Math.max(1, Math.trunc(limit) || 1));
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (filter.bridge !== undefined) {
      where.push('bridge = ?');
      values.push(filter.bridge);
    }
    if (filter.session !== undefined) {
      where.push('session = ?');
      values.push(filter.session);
    }
    if (filter.sinceMs !== undefined) {
      where.push('at >= ?');
      values.push(Math.trunc(filter.sinceMs));
    }
    const sql = `SELECT ${AUDIT_COLUMNS.join(', ')} FROM proxied_calls
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY rowid DESC LIMIT ?`;
    try {
      return (
        this.#history.useDatabase('audit read', (db) => {
          this.#statements(db);
          return db
            .prepare<(string | number)[], AuditRow>(sql)
            .all(...values, clamped)
            .map(fromAuditRow);
        }) ?? []
      );
    } catch (error: unknown) {
      this.#logger.error({ err: String(error) }, 'audit: could not read proxied calls');
      return [];
    }
  }

  count(): number {
    this.flush();
    return (
      this.#history.useDatabase('audit count', (db) => {
        this.#statements(db);
        return db.prepare<[], number>('SELECT count(*) FROM proxied_calls').pluck().get() ?? 0;
      }) ?? 0
    );
  }

  /** Writes what is queued; later records are ignored. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
  }

  /** The table (created when missing) and its write, prepared once per connection. */
  #statements(db: Database.Database): Prepared {
    let prepared = this.#prepared.get(db);
    if (!prepared) {
      db.exec(CREATE_AUDIT_TABLE);
      const insert = db.prepare<[AuditRow], unknown>(INSERT);
      const trim = db.prepare<[number], unknown>(TRIM);
      const transaction = db.transaction((rows: AuditRow[]) => {
        for (const row of rows) insert.run(row);
        trim.run(this.#maxEntries);
      });
      prepared = { write: (rows) => transaction.immediate(rows) };
      this.#prepared.set(db, prepared);
    }
    return prepared;
  }
}
