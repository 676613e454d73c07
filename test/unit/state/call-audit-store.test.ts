import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/logger.js';
import {
  describeArguments,
  MAX_STORED_ARGUMENT_BYTES,
  shortMessage,
  type ProxiedCallRecord,
} from '../../../src/state/call-audit-record.js';
import { CallAuditStore } from '../../../src/state/call-audit-store.js';
import { HISTORY_FILE, HistoryStore } from '../../../src/state/history-store.js';
import { formatCall, parseAuditArgs, parseSince } from '../../../src/state/audit-cli.js';

const logger: Logger = pino({ level: 'silent' });

function call(overrides: Partial<ProxiedCallRecord> = {}): ProxiedCallRecord {
  return {
    at: 1_796_000_000_000,
    bridge: 'bridge-a',
    session: 'default',
    server: 'everything',
    tool: 'echo',
    ...describeArguments('{"message":"x"}', false),
    outcome: 'ok',
    message: null,
    durationMs: 0.5,
    approval: 'none',
    ...overrides,
  };
}

describe('CallAuditStore', () => {
  let stateDir: string;
  let history: HistoryStore;
  let audit: CallAuditStore;

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'call-audit-'));
    history = HistoryStore.open(stateDir, { maxEntries: 10, logger });
    audit = new CallAuditStore(history, { maxEntries: 1000, logger, flushDelayMs: 60_000 });
  });
  afterEach(() => {
    audit.close();
    history.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('queues a record without touching the file, and writes it when read or flushed', () => {
    audit.record(call());
    const db = new Database(path.join(stateDir, HISTORY_FILE), { readonly: true });
    try {
      const tables = () =>
        db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'proxied_calls'`).pluck().get();
      expect(tables()).toBe(0);
      expect(audit.recent(10)).toEqual([call()]);
      expect(tables()).toBe(1);
      expect(db.prepare('SELECT count(*) FROM proxied_calls').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('reads newest first, by bridge, session and time', () => {
    audit.record(call({ at: 1000, tool: 'a' }));
    audit.record(call({ at: 2000, tool: 'b', bridge: 'bridge-b' }));
    audit.record(call({ at: 3000, tool: 'c', session: 'other' }));
    audit.record(call({ at: 4000, tool: 'd' }));
    const tools = (calls: ProxiedCallRecord[]) => calls.map((entry) => entry.tool);
    expect(tools(audit.recent(10))).toEqual(['d', 'c', 'b', 'a']);
    expect(tools(audit.recent(10, { bridge: 'bridge-a', session: 'default' }))).toEqual(['d', 'a']);
    expect(tools(audit.recent(10, { sinceMs: 2000 }))).toEqual(['d', 'c', 'b']);
    expect(tools(audit.recent(2))).toEqual(['d', 'c']);
  });

  it('stays bounded: 10,000 calls keep the newest maxEntries', () => {
    const small = new CallAuditStore(history, { maxEntries: 100, logger, flushDelayMs: 60_000 });
    for (let index = 0; index < 10_000; index += 1)
      small.record(call({ at: index, tool: `t${index}` }));
    expect(small.count()).toBe(100);
    const kept = small.recent(10_000);
    expect(kept).toHaveLength(100);
    expect(kept[0]?.tool).toBe('t9999');
    expect(kept[99]?.tool).toBe('t9900');
    small.close();
  });

  it('clamps a read limit it is given (-1, 1e9, NaN) to 1..10,000', () => {
    for (let index = 0; index < 3; index += 1) audit.record(call());
    expect(audit.recent(-1)).toHaveLength(1);
    expect(audit.recent(1e9)).toHaveLength(3);
    expect(audit.recent(Number.NaN)).toHaveLength(1);
  });

  it('writes what is queued at close; records after close are ignored', () => {
    audit.record(call({ tool: 'last' }));
    audit.close();
    audit.record(call({ tool: 'late' }));
    const reader = new CallAuditStore(history, { maxEntries: 1000, logger });
    expect(reader.recent(10).map((entry) => entry.tool)).toEqual(['last']);
  });

  it('never throws at the caller when the database is gone', () => {
    history.close();
    expect(() => audit.record(call())).not.toThrow();
    expect(() => audit.flush()).not.toThrow();
    expect(audit.recent(5)).toEqual([]);
  });
});

describe('describeArguments', () => {
  it('gives size and sha256 of the JSON, and no arguments unless asked', () => {
    expect(describeArguments('{"a":"é"}', false)).toEqual({
      argumentBytes: 10,
      argumentSha256: createHash('sha256').update('{"a":"é"}').digest('hex'),
      arguments: null,
    });
    expect(describeArguments('{"a":1}', true).arguments).toBe('{"a":1}');
  });

  it('keeps at most 64 KiB of huge arguments, marked, never half a character', () => {
    const json = JSON.stringify({ text: 'é'.repeat(200_000) });
    const described = describeArguments(json, true);
    expect(described.argumentBytes).toBe(Buffer.byteLength(json));
    expect(Buffer.byteLength(described.arguments ?? '')).toBeLessThan(
      MAX_STORED_ARGUMENT_BYTES + 100,
    );
    expect(described.arguments?.endsWith(`é… [cut: ${Buffer.byteLength(json)} bytes in all]`)).toBe(
      true,
    );
    expect(described.arguments).not.toContain('\uFFFD');
  });

  it('cuts messages to one line of 200 characters', () => {
    expect(shortMessage('a\n  b')).toBe('a b');
    expect(shortMessage('x'.repeat(500))).toHaveLength(200);
  });
});

describe('audit CLI options', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  it('reads ages and ISO times for --since', () => {
    expect(parseSince('30m', now)).toBe(now - 30 * 60_000);
    expect(parseSince('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('2026-12-06T10:00Z', now)).toBe(Date.parse('2026-12-06T10:00Z'));
    expect(parseSince('yesterday', now)).toBeUndefined();
    expect(parseSince('12', now)).toBeUndefined();
  });

  it('parses every option, in both spellings', () => {
    expect(
      parseAuditArgs(['--since=2h', '--session', 'default', '--limit', '5', '--json'], now),
    ).toEqual({
      sinceMs: now - 2 * 3_600_000,
      session: 'default',
      limit: 5,
      json: true,
    });
  });

  it.each([
    [['--limit', '-1'], /--limit "-1"/],
    [['--limit', '1e9'], /--limit "1e9"/],
    [['--limit', 'x'], /--limit "x"/],
    [['--limit', '0'], /--limit "0"/],
    [['--limit', '10001'], /--limit "10001"/],
    [['--limit'], /--limit needs a value/],
    [['--session', '../etc'], /session name/],
    [['--since', 'soon'], /--since "soon"/],
    [['--what'], /Unknown option/],
  ])('refuses %j', (args, why) => {
    expect(parseAuditArgs(args, now)).toMatch(why);
  });

  it('formats one line per call', () => {
    expect(formatCall(call({ outcome: 'refused', message: 'not available' }))).toMatch(
      /^2026-\S+Z {2}default {2}everything\.echo {2}refused {2}0\.5ms {2}15B {2}sha256:[0-9a-f]{16} {2}approval:none {2}not available$/,
    );
  });
});
