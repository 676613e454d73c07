import { describe, expect, it } from 'vitest';
import { closestFirst, editDistance } from '../../../src/util/closest.js';

describe('editDistance', () => {
  it('measures edit distance with swaps, giving up past the limit', () => {
    expect(editDistance('read', 'read', 2)).toBe(0);
    expect(editDistance('raed', 'read', 2)).toBe(1);
    expect(editDistance('delt', 'delet', 2)).toBe(1);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });

  it('has no limit unless given one', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abcdef')).toBe(6);
  });
});

describe('closestFirst', () => {
  it('sorts by distance, ignoring case, then by name', () => {
    expect(closestFirst('GitHub', ['gitlab', 'slack', 'github', 'Gitea'])).toEqual([
      'github',
      'gitlab',
      'Gitea',
      'slack',
    ]);
  });

  it('does not change the list it is given', () => {
    const names = ['b', 'a'];
    closestFirst('a', names);
    expect(names).toEqual(['b', 'a']);
  });
});
