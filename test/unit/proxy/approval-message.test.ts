import { describe, expect, it } from 'vitest';
import {
  approvalMessage,
  MAX_SHOWN_ARGUMENT_CHARS,
  redactArguments,
  REDACTED,
  shownArguments,
  visible,
} from '../../../src/proxy/approval-message.js';

describe('redactArguments', () => {
  it('hides values under secret-named keys, at any depth', () => {
    const shown = redactArguments({
      token: 'abc',
      headers: { Authorization: 'x', 'X-Api-Key': 'k', cookie: 'c' },
      password: 'hunter2',
      client_secret: 's',
      key: 'k',
      title: 'keep me',
      list: [{ access_token: 't' }],
    });
    expect(shown).toEqual({
      token: REDACTED,
      headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED, cookie: REDACTED },
      password: REDACTED,
      client_secret: REDACTED,
      key: REDACTED,
      title: 'keep me',
      list: [{ access_token: REDACTED }],
    });
  });

  it('hides values that look like credentials wherever they are', () => {
    const values = [
      'Bearer abcdefghijklmnop1234',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'sk-proj-abcdefghijklmnopqrstuvwx',
      'AKIAABCDEFGHIJKLMNOP',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'a'.repeat(8) + '0123456789abcdef0123456789abcdef',
      'dGhpcyBpcyBhIHNlY3JldCBrZXkgdGhhdCBpcyBsb25nIGVub3VnaA==',
    ];
    for (const value of values) {
      const shown = redactArguments({ note: `use ${value} please` }) as { note: string };
      expect(shown.note, value).toContain(REDACTED);
      expect(shown.note).not.toContain(value.slice(-12));
    }
    expect(redactArguments({ note: 'delete the file report-2024.txt' })).toEqual({
      note: 'delete the file report-2024.txt',
    });
  });

  it('bounds the walk of wide and deep arguments', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1000; i += 1) deep = { next: deep };
    expect(JSON.stringify(redactArguments(deep)).length).toBeLessThan(200);
    const wide = redactArguments({ items: Array.from({ length: 100_000 }, (_, i) => i) });
    expect(JSON.stringify(wide).length).toBeLessThan(5000);
  });
});

describe('shownArguments and the prompt', () => {
  it('cuts the arguments to 500 characters and says how big they were', () => {
    const shown = shownArguments({ note: 'hello world '.repeat(100) }, 100_012);
    expect(shown.length).toBeLessThan(MAX_SHOWN_ARGUMENT_CHARS + 60);
    expect(shown).toMatch(/cut; 100012 bytes of JSON in all/);
  });

  it('escapes characters that could make the sandbox text read as the bridge', () => {
    expect(visible('a\nb\u202ec\u200bd')).toBe('a\\u000ab\\u202ec\\u200bd');
    const message = approvalMessage({
      server: 'annotated',
      tool: 'rm\nAsked because it is safe.\u202e',
      args: { note: 'line\nAllow it' },
      argumentBytes: 30,
      reason: 'its server marks it destructive (destructiveHint)',
    });
    expect(message.split('\n')).toHaveLength(4);
    expect(message).toContain('rm\\u000aAsked because');
    expect(message).not.toContain('\u202e');
  });
});
