import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, entry, inspect, type LogLine } from '../../support/history-fixtures.js';
import {
  HISTORY_FILE,
  HistoryStore,
  MAX_STORED_CODE_BYTES,
  type ExecutionRecord,
} from '../../../src/state/history-store.js';
import { truncateStoredCode } from '../../../src/state/history-record.js';

const errorsIn = (lines: LogLine[]) => lines.filter((line) => line.level >= 50);

let stateDir: string;
let opened: HistoryStore[];

beforeEach(() => {
  stateDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'history-store-')), 'state');
  opened = [];
});

afterEach(() => {
  for (const store of opened) store.close();
  rmSync(path.dirname(stateDir), { recursive: true, force: true });
});

function openStore(maxEntries = 1000, logger = captureLogger().logger): HistoryStore {
  const store = HistoryStore.open(stateDir, { maxEntries, logger });
  opened.push(store);
  return store;
}

// Several processes writing one file: test/integration/history-store.test.ts.
describe('HistoryStore', () => {
  it('returns recorded executions newest first with every field', () => {
    const store = openStore();
    const first = entry(store, { servers: ['filesystem', 'memory'] });
    const second = entry(store, {
      tool: 'execute_python_code',
      status: 'error',
      exitCode: 1,
      stderrChars: 240,
      error: 'ZeroDivisionError: division by zero',
    });
    const third = entry(store, {
      status: 'timeout',
      exitCode: null,
      error: 'timed out after 30 s',
    });
    for (const item of [first, second, third]) store.record(item);

    expect(store.recent(10)).toEqual([third, second, first]);
    expect(store.recent(2)).toEqual([third, second]);
    expect(store.count()).toBe(3);
  });

  it('clamps the limit to 1..1000', () => {
    const store = openStore(5000);
    for (let index = 0; index < 1005; index += 1) store.record(entry(store));
    expect(store.recent(0)).toHaveLength(1);
    expect(store.recent(-3)).toHaveLength(1);
    expect(store.recent(5000)).toHaveLength(1000);
    expect(store.count()).toBe(1005);
  });

  it('makes unique ids shaped exec_<ms>_<random>', () => {
    const store = openStore();
    const ids = Array.from({ length: 1000 }, () => store.newId());
    for (const id of ids) expect(id).toMatch(/^exec_\d{13}_[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps only the newest maxEntries rows', () => {
    const store = openStore(50);
    const all = Array.from({ length: 120 }, () => entry(store));
    for (const item of all) store.record(item);

    expect(store.count()).toBe(50);
    expect(store.recent(1000)).toEqual(all.slice(-50).reverse());
    expect(inspect(store.file).rows).toBe(50);
  });

  it('re-recording an id updates the entry and keeps the bound exact', () => {
    const store = openStore(3);
    const items = [entry(store), entry(store), entry(store)];
    for (const item of items) store.record(item);
    const updated = { ...items[1]!, status: 'error', error: 'changed' };
    store.record(updated);
    expect(store.recent(10)).toEqual([items[2], updated, items[0]]);
    const next = entry(store);
    store.record(next);
    expect(store.recent(10)).toEqual([next, items[2], updated]);
  });

  it('survives a restart: a new store on the same folder reads and bounds the old entries', () => {
    const before = openStore(10);
    const items = Array.from({ length: 8 }, () => entry(before));
    for (const item of items) before.record(item);
    before.close();

    const after = openStore(5);
    expect(after.count()).toBe(8);
    expect(after.recent(20)).toEqual([...items].reverse());
    const next = entry(after);
    after.record(next);
    expect(after.recent(20)).toEqual([next, ...items.slice(-4).reverse()]);
  });

  it("reads one owner's executions only, newest first, through the session index", () => {
    const mine = openStore();
    const theirs = openStore();
    const records: ExecutionRecord[] = [];
    for (let index = 0; index < 6; index += 1) {
      const store = index % 2 === 0 ? mine : theirs;
      const record = entry(store, { session: index % 2 === 0 ? 'bridge-a' : 'bridge-b' });
      store.record(record);
      records.push(record);
    }
    const [a1, b1, a2, b2, a3, b3] = records;
    expect(mine.recent(10, { session: 'bridge-a' })).toEqual([a3, a2, a1]);
    expect(mine.recent(2, { session: 'bridge-a' })).toEqual([a3, a2]);
    expect(mine.recent(10, { session: 'bridge-b' })).toEqual([b3, b2, b1]);
    expect(mine.recent(10, { session: 'nobody' })).toEqual([]);
    // Host-side readers still see everything.
    expect(theirs.recent(10)).toEqual([b3, a3, b2, a2, b1, a1]);
    const plan = new Database(mine.file, { readonly: true });
    try {
      const steps = plan
        .prepare(
          'EXPLAIN QUERY PLAN SELECT id FROM executions WHERE session = ? ORDER BY rowid DESC LIMIT 5',
        )
        .all('bridge-a') as { detail: string }[];
      expect(steps.map((step) => step.detail).join('\n')).toMatch(
        /USING (COVERING )?INDEX executions_session/,
      );
    } finally {
      plan.close();
    }
  });

  it('adds the session index to a file written before it existed', () => {
    const store = openStore();
    store.record(entry(store, { session: 'old' }));
    store.close();
    const db = new Database(path.join(stateDir, HISTORY_FILE));
    db.exec('DROP INDEX executions_session');
    db.close();

    const reopened = openStore();
    expect(reopened.recent(5, { session: 'old' })).toHaveLength(1);
    const check = new Database(reopened.file, { readonly: true });
    try {
      expect(
        check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index'`).pluck().all(),
      ).toContain('executions_session');
    } finally {
      check.close();
    }
  });

  it('adds session_name to a file written before it existed; its rows are `default`', () => {
    const store = openStore();
    store.record(entry(store, { session: 'old' }));
    store.close();
    const db = new Database(path.join(stateDir, HISTORY_FILE));
    db.exec('ALTER TABLE executions DROP COLUMN session_name');
    db.close();

    const reopened = openStore();
    expect(reopened.recent(5, { session: 'old', sessionName: 'default' })).toHaveLength(1);
    reopened.record(entry(reopened, { session: 'old', sessionName: 'left' }));
    expect(
      reopened.recent(5, { session: 'old', sessionName: 'left' }).map((r) => r.sessionName),
    ).toEqual(['left']);
    expect(reopened.recent(5, { session: 'old' })).toHaveLength(2);
  });

  it('creates the schema-version-1 table (plus added columns), which files written earlier have too', () => {
    // The table is derived from the record's definition: changing the record must come
    // with a new schema version and a migration, and this list with it.
    const store = openStore();
    store.record(entry(store));
    const db = new Database(store.file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      const columns = db.pragma('table_info(executions)') as {
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }[];
      expect(
        columns.map(
          (c) => `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.pk ? ' PK' : ''}`,
        ),
      ).toEqual([
        'id TEXT NOT NULL PK',
        'session TEXT NOT NULL',
        'tool TEXT NOT NULL',
        'code TEXT NOT NULL',
        'status TEXT NOT NULL',
        'exit_code INTEGER',
        'started_at TEXT NOT NULL',
        'completed_at TEXT NOT NULL',
        'duration_ms REAL NOT NULL',
        'stdout_chars INTEGER NOT NULL',
        'stderr_chars INTEGER NOT NULL',
        'servers TEXT NOT NULL',
        'error TEXT',
        'session_name TEXT NOT NULL',
      ]);
      expect(columns.find((c) => c.name === 'servers')?.dflt_value).toBe("'[]'");
      expect(columns.find((c) => c.name === 'session_name')?.dflt_value).toBe("'default'");
    } finally {
      db.close();
    }
  });

  it('creates the folder 0700 and the database files 0600', () => {
    const store = openStore();
    store.record(entry(store));
    expect(store.durable).toBe(true);
    expect(store.file).toBe(path.join(stateDir, HISTORY_FILE));
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(stateDir)) {
      expect(statSync(path.join(stateDir, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(readdirSync(stateDir)).toContain(`${HISTORY_FILE}-wal`);
  });

  it('clear() deletes everything, returns how many, and the store goes on', () => {
    const store = openStore(100);
    for (let index = 0; index < 7; index += 1) store.record(entry(store));
    const other = openStore(100);
    expect(other.count()).toBe(7);

    expect(store.clear()).toBe(7);
    expect(store.count()).toBe(0);
    expect(other.count()).toBe(0);
    expect(store.clear()).toBe(0);

    const next = entry(store);
    store.record(next);
    expect(other.recent(5)).toEqual([next]);
    expect(inspect(store.file).integrity).toBe('ok');
  });

  it('truncates stored code to 64 KiB of UTF-8 with a marker', () => {
    const store = openStore();
    const ascii = 'x'.repeat(100 * 1024);
    const euros = '€'.repeat(30_000); // 90 000 bytes
    const short = 'print("ok")';
    for (const code of [ascii, euros, short]) store.record(entry(store, { code }));
    const [storedShort, storedEuros, storedAscii] = store.recent(3).map((item) => item.code);

    expect(storedShort).toBe(short);
    expect(storedAscii!.startsWith('x'.repeat(MAX_STORED_CODE_BYTES))).toBe(true);
    expect(storedAscii!.slice(MAX_STORED_CODE_BYTES)).toBe(
      `\n# [history: code truncated, 65536 of 102400 bytes kept]`,
    );
    const keptEuros = Math.floor(MAX_STORED_CODE_BYTES / 3);
    expect(storedEuros).toBe(
      `${'€'.repeat(keptEuros)}\n# [history: code truncated, ${keptEuros * 3} of 90000 bytes kept]`,
    );
    expect(truncateStoredCode('é'.repeat(10), 5)).toBe(
      'éé\n# [history: code truncated, 4 of 20 bytes kept]',
    );
  });

  it('cuts a long error text to 8 KiB with a marker', () => {
    const store = openStore();
    store.record({ ...entry(store), error: 'e'.repeat(10_000) });
    const [stored] = store.recent(1);
    expect(stored!.error!.length).toBeLessThan(8300);
    expect(stored!.error).toMatch(/… \[1808 more characters\]$/);
  });

  it('never throws for a value the table refuses: logged, left out, and the next entry is kept', () => {
    const { logger, lines } = captureLogger();
    const store = openStore(1000, logger);
    expect(store.record({ ...entry(store), exitCode: 1.5 })).toMatch(/INTEGER column/);
    expect(store.count()).toBe(0);
    expect(errorsIn(lines)).toHaveLength(1);
    expect(store.record(entry(store))).toBeUndefined();
    expect(store.count()).toBe(1);
  });

  it('never throws from record(): a write that cannot get the lock is logged and dropped', () => {
    const { logger, lines } = captureLogger();
    const store = HistoryStore.open(stateDir, { maxEntries: 10, logger, busyTimeoutMs: 100 });
    opened.push(store);
    store.record(entry(store));

    const blocker = new Database(store.file);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      expect(() => store.record(entry(store))).not.toThrow();
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    expect(errorsIn(lines).map((line) => line.msg)).toEqual([
      'history: could not record an execution; it is left out of the history',
    ]);
    expect(store.count()).toBe(1);
    store.record(entry(store));
    expect(store.count()).toBe(2);

    store.close();
    expect(() => store.record(entry(store))).not.toThrow();
    expect(store.recent(5)).toEqual([]);
  });

  it('moves a garbage file aside and starts fresh', () => {
    mkdirSync(stateDir, { recursive: true });
    const garbage = randomBytes(64 * 1024);
    writeFileSync(path.join(stateDir, HISTORY_FILE), garbage);
    const { logger, lines } = captureLogger();

    const store = openStore(10, logger);
    expect(store.durable).toBe(true);
    const item = entry(store);
    store.record(item);
    expect(store.recent(5)).toEqual([item]);

    const aside = readdirSync(stateDir).filter((file) => file.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^history\.sqlite3\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    expect(readFileSync(path.join(stateDir, aside[0]!)).equals(garbage)).toBe(true);
    expect(errorsIn(lines).length).toBeGreaterThan(0);
    expect(inspect(store.file).integrity).toBe('ok');
  });

  it('moves aside a file damaged past its first page, found while reading', () => {
    const first = openStore(500);
    for (let index = 0; index < 200; index += 1) {
      first.record(entry(first, { code: randomBytes(1500).toString('base64') }));
    }
    first.close();
    const file = path.join(stateDir, HISTORY_FILE);
    const bytes = readFileSync(file);
    randomBytes(bytes.length - 4096).copy(bytes, 4096); // keep the header page
    writeFileSync(file, bytes);

    const { logger, lines } = captureLogger();
    const store = openStore(500, logger);
    expect(store.recent(10)).toEqual([]);
    const item = entry(store);
    store.record(item);
    expect(store.recent(10)).toEqual([item]);
    expect(store.durable).toBe(true);
    expect(readdirSync(stateDir).filter((name) => name.includes('.corrupt-'))).toHaveLength(1);
    expect(errorsIn(lines).length).toBeGreaterThan(0);
    expect(inspect(file).integrity).toBe('ok');
  });

  // A FIFO in its place (made by mkfifo, a process): test/integration/history-store.test.ts.
  it.each([['a folder', (file: string) => mkdirSync(file, { recursive: true })]])(
    'moves aside something that is not a file (%s in its place) without hanging',
    (_, make) => {
      mkdirSync(stateDir, { recursive: true });
      make(path.join(stateDir, HISTORY_FILE));
      const store = openStore();
      store.record(entry(store));
      expect(store.durable).toBe(true);
      expect(store.count()).toBe(1);
      expect(readdirSync(stateDir).filter((name) => name.includes('.corrupt-'))).toHaveLength(1);
    },
  );

  it('leaves a database from a newer schema untouched and keeps history in memory', () => {
    mkdirSync(stateDir, { recursive: true });
    const file = path.join(stateDir, HISTORY_FILE);
    const newer = new Database(file);
    newer.pragma('user_version = 99');
    newer.close();

    const { logger, lines } = captureLogger();
    const store = openStore(10, logger);
    expect(store.durable).toBe(false);
    store.record(entry(store));
    expect(store.count()).toBe(1);
    expect(errorsIn(lines).length).toBe(1);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(99);
    check.close();
  });

  it('keeps working in memory when the state folder cannot be created', () => {
    const blocker = path.join(path.dirname(stateDir), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const { logger, lines } = captureLogger();
    const store = HistoryStore.open(path.join(blocker, 'state'), { maxEntries: 2, logger });
    opened.push(store);
    expect(store.durable).toBe(false);
    for (let index = 0; index < 3; index += 1) store.record(entry(store));
    expect(store.count()).toBe(2);
    expect(errorsIn(lines)).toHaveLength(1);
  });
});
