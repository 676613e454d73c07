import { describe, expect, it } from 'vitest';
import { ArtifactCollector, safeArtifactPath } from '../../../src/session/artifact-collector.js';

function frame(path: string, data = 'aGk=', mimeType = 'text/plain') {
  return { type: 'artifact' as const, id: 1, path, mimeType, data };
}

describe('safeArtifactPath', () => {
  it.each(['a.csv', 'data/2024/a b.csv', 'ünïcode.txt', '.hidden', 'a..b'])('takes %s', (name) => {
    expect(safeArtifactPath(name)).toBe(true);
  });
  it.each([
    '',
    '.',
    '..',
    '../x',
    'a/../../x',
    '/etc/x',
    'a//b',
    'a/',
    'a\\b',
    'C:x',
    'a\u0000b',
    'a\nb',
    'x'.repeat(256),
    Array(9).fill('d').join('/'),
  ])('refuses %j', (name) => {
    expect(safeArtifactPath(name)).toBe(false);
  });
});

describe('ArtifactCollector', () => {
  it('keeps files within the count and size, refusing bad names, kinds, encodings and repeats', () => {
    const collector = new ArtifactCollector(3, 10);
    collector.add(frame('a.txt'));
    collector.add(frame('../b.txt'));
    collector.add(frame('c.txt', 'aGk=', 'text/html; <x>'));
    collector.add(frame('d.txt', 'a!k='));
    collector.add(frame('a.txt'));
    collector.add(frame('big.bin', 'A'.repeat(100)));
    collector.add(frame('e.txt'));
    collector.add(frame('f.txt'));
    collector.add(frame('g.txt'));
    const { artifacts, notices } = collector.result();
    expect(artifacts.map((file) => [file.path, file.bytes])).toEqual([
      ['a.txt', 2],
      ['e.txt', 2],
      ['f.txt', 2],
    ]);
    expect(notices).toEqual([
      '1 more files dropped: at most 3 per call',
      '1 files dropped: over 10 bytes',
      '4 files dropped: an unusable name, type or encoding',
    ]);
  });
});
