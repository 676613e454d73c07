import { describe, expect, it } from 'vitest';
import {
  commandLine,
  formatDuration,
  stderrExcerpt,
} from '../../../src/upstream/upstream-messages.js';

describe('commandLine', () => {
  it('quotes what a shell would need quoted', () => {
    expect(commandLine({ command: 'npx', args: ['-y', '@scope/server', '/tmp/my folder'] })).toBe(
      "npx -y @scope/server '/tmp/my folder'",
    );
  });

  it('masks values of secret-looking flags and token-shaped strings', () => {
    expect(
      commandLine({
        command: 'server',
        args: ['--api-key', 'abc123', '--token=xyz', 'ghp_abcdefghijklmnop', '--port', '80'],
      }),
    ).toBe('server --api-key *** --token=*** *** --port 80');
  });
});

describe('message helpers', () => {
  it('formats durations and stderr excerpts', () => {
    expect(formatDuration(300)).toBe('300 ms');
    expect(formatDuration(30_000)).toBe('30 s');
    expect(formatDuration(2_500)).toBe('2.5 s');
    expect(stderrExcerpt([])).toBe(' It wrote nothing to stderr.');
    expect(stderrExcerpt(['a', 'b'])).toBe(' Its last stderr lines:\n  a\n  b');
  });
});
