import { describe, expect, it } from 'vitest';
import { globMatches, resolveToolPolicy } from '../../../src/proxy/tool-policy.js';

describe('globMatches', () => {
  it.each([
    ['*', 'anything', true],
    ['*', '', true],
    ['delete_*', 'delete_item', true],
    ['delete_*', 'delete_', true],
    ['delete_*', 'undelete_item', false],
    ['*_item', 'delete_item', true],
    ['*_item', 'delete_items', false],
    ['d?l*', 'delete', true],
    ['d?l', 'dl', false],
    ['?', 'ab', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['echo', 'Echo', false],
    ['echo', 'echo', true],
    ['**', 'x', true],
    ['a.b', 'aXb', false],
    ['[ab]', '[ab]', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(globMatches(pattern, name)).toBe(expected);
  });

  it('stays fast on patterns that make regular expressions backtrack', () => {
    const pattern = `${'*a'.repeat(50)}b`;
    const name = 'a'.repeat(200);
    expect(globMatches(pattern, name)).toBe(false);
  });
});

describe('resolveToolPolicy', () => {
  const destructive = { annotations: { destructiveHint: true } };
  const policy = {
    allow: ['*_cache', 'rm_*', 'echo*'],
    ask: ['echo_loud', 'rm_*'],
    deny: ['rm_*'],
  };

  it('deny beats ask and allow', () => {
    expect(resolveToolPolicy(policy, 'rm_all', destructive)).toMatchObject({
      verdict: 'deny',
      byPattern: true,
    });
  });

  it('ask beats allow', () => {
    expect(resolveToolPolicy(policy, 'echo_loud', undefined).verdict).toBe('ask');
    expect(resolveToolPolicy(policy, 'echo', undefined).verdict).toBe('allow');
  });

  it('allow beats the destructive default', () => {
    expect(resolveToolPolicy(policy, 'purge_cache', destructive)).toMatchObject({
      verdict: 'allow',
      byPattern: true,
    });
  });

  it('by default asks for destructive tools, unless read-only too', () => {
    expect(resolveToolPolicy(undefined, 'delete', destructive)).toMatchObject({
      verdict: 'ask',
      byPattern: false,
    });
    expect(
      resolveToolPolicy(undefined, 'read', {
        annotations: { destructiveHint: true, readOnlyHint: true },
      }).verdict,
    ).toBe('allow');
    expect(resolveToolPolicy(undefined, 'plain', {}).verdict).toBe('allow');
    expect(resolveToolPolicy(undefined, 'unlisted', undefined).verdict).toBe('allow');
    expect(
      resolveToolPolicy(undefined, 'maybe', { annotations: { destructiveHint: false } }).verdict,
    ).toBe('allow');
  });
});
