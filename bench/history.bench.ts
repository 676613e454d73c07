/**
 * `npx tsx bench/history.bench.ts`: what the durable execution history (issue 4 item 3)
 * adds to each execution. Times `record()` (insert + trim, one committed WAL transaction)
 * per call over 2000 records into a store bounded at 1000, so the second half also
 * deletes the oldest row; `recent(20)` and `count()` as get_execution_history calls them;
 * and `record()` with code at the 64 KiB storage cap. Real files in a temp folder.
 * `measureHistoryCost()` returns the figures for the main bench.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import {
  HistoryStore,
  MAX_STORED_CODE_BYTES,
  type ExecutionRecord,
} from '../src/state/history-store.js';
import { describeSummary, ms, summarize, type Summary } from './stats.js';

export interface HistoryCostSettings {
  /** record() calls timed. */
  records: number;
  /** The store's bound (PYTHON_EXECUTOR_MAX_HISTORY's default). */
  maxEntries: number;
  /** recent(20) and count() calls timed. */
  reads: number;
  /** record() calls timed with code at the storage cap. */
  largeRecords: number;
  /** Where to put the temp folder (default: the OS temp dir). */
  parentDir?: string;
}

export interface HistoryCostFigures {
  settings: HistoryCostSettings;
  /** HistoryStore.open on a new folder (creates the file and schema). */
  openMs: number;
  /** Per record() call, typical code (~300 bytes). */
  record: Summary;
  /** Per record() call, code of MAX_STORED_CODE_BYTES. */
  recordLarge: Summary;
  recent20: Summary;
  count: Summary;
  /** history.sqlite3 + WAL once the records are in. */
  fileBytes: number;
  rowsKept: number;
}

export const HISTORY_COST_SETTINGS: HistoryCostSettings = {
  records: 2000,
  maxEntries: 1000,
  reads: 500,
  largeRecords: 200,
};

const SAMPLE_CODE = `import json, statistics
values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
summary = {"mean": statistics.mean(values), "median": statistics.median(values)}
print(json.dumps(summary))
for index, value in enumerate(values):
    if value > 4:
        print(index, value)
`;

function sampleRecord(store: HistoryStore, code: string): ExecutionRecord {
  const started = new Date();
  return {
    id: store.newId(),
    session: 'bench-session',
    sessionName: 'default',
    tool: 'run_python',
    code,
    status: 'success',
    exitCode: 0,
    startedAt: started.toISOString(),
    completedAt: new Date(started.getTime() + 42).toISOString(),
    durationMs: 42.1,
    stdoutChars: 120,
    stderrChars: 0,
    servers: ['filesystem'],
    error: null,
  };
}

function timeEach(times: number, action: (index: number) => void): Summary {
  const samples: number[] = [];
  for (let index = 0; index < times; index += 1) {
    const start = performance.now();
    action(index);
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function measureHistoryCost(
  settings: HistoryCostSettings = HISTORY_COST_SETTINGS,
): HistoryCostFigures {
  const root = mkdtempSync(path.join(settings.parentDir ?? os.tmpdir(), 'history-bench-'));
  const logger = pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true }));
  try {
    const openStart = performance.now();
    const store = HistoryStore.open(path.join(root, 'state'), {
      maxEntries: settings.maxEntries,
      logger,
    });
    const openMs = performance.now() - openStart;
    if (!store.durable) throw new Error(`the history could not use ${store.file}`);
    try {
      // Records are built outside the timed part: only the store's work is measured.
      const records = Array.from({ length: settings.records }, (_, index) =>
        sampleRecord(store, `${SAMPLE_CODE}# run ${index}\n`),
      );
      const record = timeEach(settings.records, (index) => store.record(records[index]!));
      const fileBytes = sizeOf(store.file) + sizeOf(`${store.file}-wal`);
      const recent20 = timeEach(settings.reads, () => store.recent(20));
      const count = timeEach(settings.reads, () => store.count());
      const large = Array.from({ length: settings.largeRecords }, (_, index) =>
        sampleRecord(store, `# ${index}\n${'x'.repeat(MAX_STORED_CODE_BYTES)}`),
      );
      const recordLarge = timeEach(settings.largeRecords, (index) => store.record(large[index]!));
      const rowsKept = store.count();
      return { settings, openMs, record, recordLarge, recent20, count, fileBytes, rowsKept };
    } finally {
      store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export function describeHistoryCost(figures: HistoryCostFigures): string[] {
  const { settings } = figures;
  const row = (label: string, value: string): string => `  ${label.padEnd(30)}${value}`;
  return [
    `history store (SQLite WAL, synchronous=NORMAL, bound ${settings.maxEntries}):`,
    row('open (new file + schema)', ms(figures.openMs)),
    row(`record() x${settings.records}`, describeSummary(figures.record)),
    row(`record() 64 KiB code x${settings.largeRecords}`, describeSummary(figures.recordLarge)),
    row(`recent(20) x${settings.reads}`, describeSummary(figures.recent20)),
    row(`count() x${settings.reads}`, describeSummary(figures.count)),
    row(
      `file + WAL after ${settings.records}`,
      `${(figures.fileBytes / 1024).toFixed(0)} KiB; rows kept ${figures.rowsKept}`,
    ),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of describeHistoryCost(measureHistoryCost())) console.log(line);
}
