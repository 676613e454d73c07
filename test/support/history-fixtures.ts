/**
 * Fixtures for the history store's tests (test/unit/state/, test/integration/): a logger
 * that keeps its lines, a complete record, and the file read without the store.
 */
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { Logger } from '../../src/logger.js';
import type { ExecutionRecord, HistoryStore } from '../../src/state/history-store.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger: Logger = pino(
    { level: 'trace' },
    { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

let sequence = 0;

/** A complete record with a fresh id and a later start than the one before. */
export function entry(
  store: HistoryStore,
  overrides: Partial<ExecutionRecord> = {},
): ExecutionRecord {
  sequence += 1;
  const started = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, sequence));
  return {
    id: store.newId(),
    session: 'session-1',
    tool: 'run_python',
    code: `print(${sequence})`,
    status: 'success',
    exitCode: 0,
    startedAt: started.toISOString(),
    completedAt: new Date(started.getTime() + 12).toISOString(),
    durationMs: 12.5,
    stdoutChars: 3,
    stderrChars: 0,
    servers: [],
    error: null,
    sessionName: 'default',
    ...overrides,
  };
}

/** Integrity and row count read with a plain connection, independent of the store. */
export function inspect(file: string): { integrity: string; rows: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      integrity: String(db.pragma('integrity_check', { simple: true })),
      rows: Number(db.prepare('SELECT count(*) FROM executions').pluck().get()),
    };
  } finally {
    db.close();
  }
}
