// The history file shared by several processes, and a FIFO in its place (mkfifo).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { captureLogger, entry, inspect } from '../support/history-fixtures.js';
import { HISTORY_FILE, HistoryStore } from '../../src/state/history-store.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STORE_MODULE = path.join(REPO_ROOT, 'src', 'state', 'history-store.ts');

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

describe('HistoryStore on a FIFO', () => {
  it('moves aside a FIFO in its place without hanging', () => {
    mkdirSync(stateDir, { recursive: true });
    execFileSync('mkfifo', [path.join(stateDir, HISTORY_FILE)]);
    const store = openStore();
    store.record(entry(store));
    expect(store.durable).toBe(true);
    expect(store.count()).toBe(1);
    expect(readdirSync(stateDir).filter((name) => name.includes('.corrupt-'))).toHaveLength(1);
  });
});

/** A Node child that opens the store and records `count` entries (forever if 0). */
const CHILD_SCRIPT = `
import { writeSync } from 'node:fs';
const { HistoryStore } = await import(process.env.STORE_URL);
const [stateDir, tag, count, maxEntries, codeBytes, barrier] = process.argv.slice(2);
const log = (level) => (fields, msg) =>
  writeSync(2, JSON.stringify({ level, msg, ...fields }) + '\\n');
const logger = {
  trace() {}, debug() {}, info() {}, warn: log('warn'), error: log('error'), fatal: log('fatal'),
  child() { return logger; },
};
const store = HistoryStore.open(stateDir, { maxEntries: Number(maxEntries), logger });
if (barrier === 'wait') {
  writeSync(1, 'ready\\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
}
const filler = 'x'.repeat(Number(codeBytes));
for (let index = 0; Number(count) === 0 || index < Number(count); index += 1) {
  const id = tag + '_' + index;
  const now = new Date().toISOString();
  store.record({
    id, session: tag, tool: 'run_python', code: '# ' + id + '\\n' + filler, status: 'success',
    exitCode: 0, startedAt: now, completedAt: now, durationMs: 1, stdoutChars: 0,
    stderrChars: 0, servers: ['memory'], error: null, sessionName: 'default',
  });
  // Printed only once record() has returned, i.e. once the row is committed.
  writeSync(1, id + '\\n');
}
store.close();
process.exit(0);
`;

interface Child {
  process: ChildProcess;
  ids: string[];
  stderr: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startChild(
  scriptDir: string,
  args: { tag: string; count: number; maxEntries: number; codeBytes: number; barrier: boolean },
): Child {
  const script = path.join(scriptDir, 'history-child.mjs');
  writeFileSync(script, CHILD_SCRIPT);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      stateDir,
      args.tag,
      String(args.count),
      String(args.maxEntries),
      String(args.codeBytes),
      args.barrier ? 'wait' : 'go',
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, STORE_URL: pathToFileURL(STORE_MODULE).href },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const ids: string[] = [];
  const stderr: string[] = [];
  let pending = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') markReady();
      else ids.push(line);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, ids, stderr, ready, exited };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the child');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('HistoryStore across processes', () => {
  it('keeps every committed row after a SIGKILL mid-write, with no corruption', async () => {
    const scriptDir = path.dirname(stateDir);
    const maxEntries = 150;
    const file = path.join(stateDir, HISTORY_FILE);
    const committed: string[] = [];
    // Kill at a different point each round; each round reopens what the last one left.
    for (const killAfter of [180, 333, 517]) {
      const child = startChild(scriptDir, {
        tag: `crash${killAfter}`,
        count: 0,
        maxEntries,
        codeBytes: 6000, // several pages per row: checkpoints and trims happen mid-loop
        barrier: false,
      });
      await until(() => child.ids.length >= killAfter);
      child.process.kill('SIGKILL');
      await child.exited;
      committed.push(...child.ids);
      expect(child.stderr.join('')).toBe('');

      expect(inspect(file).integrity).toBe('ok');
      const store = openStore(maxEntries);
      const rows = store.recent(1000);
      for (const row of rows) expect(row.code.startsWith(`# ${row.id}\n`), row.id).toBe(true);
      const present = new Set(rows.map((row) => row.id));
      // Every row a child saw committed and still within the bound is there. The kill may
      // land between a commit and its print: that row is there too and pushes one out.
      for (const id of committed.slice(-(maxEntries - 1))) expect(present.has(id), id).toBe(true);
      expect(store.count()).toBe(maxEntries);
      store.close();
    }
  });

  it('two processes writing 500 records each at once: all 1000 present, no corruption', async () => {
    const scriptDir = path.dirname(stateDir);
    const children = ['alpha', 'beta'].map((tag) =>
      startChild(scriptDir, {
        tag,
        count: 500,
        maxEntries: 100_000,
        codeBytes: 200,
        barrier: true,
      }),
    );
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.process.stdin?.end('go\n');
    const codes = await Promise.all(children.map((child) => child.exited));

    expect(codes).toEqual([0, 0]);
    for (const child of children) {
      expect(child.stderr.join('')).toBe('');
      expect(child.ids).toHaveLength(500);
    }
    const file = path.join(stateDir, HISTORY_FILE);
    expect(inspect(file)).toEqual({ integrity: 'ok', rows: 1000 });
    const store = openStore(100_000);
    const stored = store.recent(1000).map((item) => item.id);
    expect(new Set(stored)).toEqual(new Set(children.flatMap((child) => child.ids)));
  });

  it('two processes writing at once with a small bound: exactly the bound is kept', async () => {
    const scriptDir = path.dirname(stateDir);
    const children = ['gamma', 'delta'].map((tag) =>
      startChild(scriptDir, { tag, count: 400, maxEntries: 120, codeBytes: 2000, barrier: true }),
    );
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.process.stdin?.end('go\n');
    expect(await Promise.all(children.map((child) => child.exited))).toEqual([0, 0]);
    for (const child of children) expect(child.stderr.join('')).toBe('');

    expect(inspect(path.join(stateDir, HISTORY_FILE))).toEqual({ integrity: 'ok', rows: 120 });
    const store = openStore(120);
    const stored = store.recent(1000).map((item) => item.id);
    expect(stored).toHaveLength(120);
    // Whoever finished last, its final record is the newest row.
    expect(['gamma_399', 'delta_399']).toContain(stored[0]);
  });
});
