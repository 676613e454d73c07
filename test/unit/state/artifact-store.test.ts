import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ArtifactStore } from '../../../src/state/artifact-store.js';

const SESSION = '00000000-0000-4000-8000-000000000000';
const logger = pino({ level: 'silent' });

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

describe('ArtifactStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'artifact-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const store = (quotaBytes = 1 << 20, copyDir?: string) =>
    new ArtifactStore({ stateDir: dir, session: SESSION, quotaBytes, copyDir, logger });

  it('keeps files under the state dir, lists and reads them; small text is embedded', () => {
    const artifacts = store();
    const { stored, notices } = artifacts.save([
      { path: 'out/a b.csv', mimeType: 'text/csv', data: base64('x,y\n1,2\n') },
      { path: 'b.bin', mimeType: 'application/octet-stream', data: base64('\u0000\u0001') },
    ]);
    expect(notices).toEqual([]);
    expect(stored.map((file) => [file.uri, file.size, file.text])).toEqual([
      [`artifact://${SESSION}/out/a%20b.csv`, 8, 'x,y\n1,2\n'],
      [`artifact://${SESSION}/b.bin`, 2, undefined],
    ]);
    expect(readFileSync(path.join(dir, 'artifacts', SESSION, 'out', 'a b.csv'), 'utf8')).toBe(
      'x,y\n1,2\n',
    );
    expect(artifacts.list().map((file) => file.name)).toEqual(['out/a b.csv', 'b.bin']);
    expect(artifacts.read(`artifact://${SESSION}/b.bin`)?.bytes).toEqual(Buffer.from([0, 1]));
    expect(artifacts.read(`artifact://other/b.bin`)).toBeUndefined();
  });

  it('evicts the oldest files past the quota', () => {
    const artifacts = store(10);
    artifacts.save([{ path: 'old.txt', mimeType: 'text/plain', data: base64('123456') }]);
    artifacts.save([{ path: 'new.txt', mimeType: 'text/plain', data: base64('abcdef') }]);
    expect(artifacts.list().map((file) => file.name)).toEqual(['new.txt']);
    expect(artifacts.read(`artifact://${SESSION}/old.txt`)).toBeUndefined();
  });

  it("keeps a named session's files apart: the same path in two sessions is two files", () => {
    const artifacts = store();
    const [mine] = artifacts.save([
      { path: 'plot.txt', mimeType: 'text/plain', data: base64('default') },
    ]).stored;
    const [theirs] = artifacts.save(
      [{ path: 'plot.txt', mimeType: 'text/plain', data: base64('left') }],
      'left',
    ).stored;
    expect(mine?.uri).toBe(`artifact://${SESSION}/plot.txt`);
    expect(theirs?.uri).toBe(`artifact://${SESSION}.left/plot.txt`);
    expect(readFileSync(path.join(dir, 'artifacts', `${SESSION}.left`, 'plot.txt'), 'utf8')).toBe(
      'left',
    );
    expect(artifacts.read(mine?.uri ?? '')?.bytes.toString()).toBe('default');
    expect(artifacts.read(theirs?.uri ?? '')?.bytes.toString()).toBe('left');
    expect(artifacts.list()).toHaveLength(2);
  });

  it("evicts a named session's files past the quota too", () => {
    const artifacts = store(10);
    artifacts.save([{ path: 'old.txt', mimeType: 'text/plain', data: base64('123456') }], 'left');
    artifacts.save([{ path: 'new.txt', mimeType: 'text/plain', data: base64('abcdef') }], 'right');
    expect(artifacts.list().map((file) => file.uri)).toEqual([
      `artifact://${SESSION}.right/new.txt`,
    ]);
    expect(artifacts.read(`artifact://${SESSION}.left/old.txt`)).toBeUndefined();
  });

  it('never writes through a link planted at the file, and says so', () => {
    const target = path.join(dir, 'target');
    writeFileSync(target, 'untouched');
    mkdirSync(path.join(dir, 'artifacts', SESSION), { recursive: true });
    symlinkSync(target, path.join(dir, 'artifacts', SESSION, 'link.txt'));
    const { stored, notices } = store().save([
      { path: 'link.txt', mimeType: 'text/plain', data: base64('overwritten') },
    ]);
    expect(stored).toEqual([]);
    expect(notices[0]).toMatch(/^link\.txt: not kept on the host/);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
  });

  it('also writes each file to the copy folder, under the session', () => {
    const copies = path.join(dir, 'copies');
    store(1 << 20, copies).save([{ path: 'a.txt', mimeType: 'text/plain', data: base64('hi') }]);
    expect(readFileSync(path.join(copies, SESSION, 'a.txt'), 'utf8')).toBe('hi');
  });
});
