import { describe, expect, it } from 'vitest';
import { queryTerms, splitWords, stem } from '../../../src/upstream/search-terms.js';

describe('search terms', () => {
  it('splits identifiers and prose into lower-case words', () => {
    expect(splitWords('createIssue create_issue create-issue')).toEqual([
      'create',
      'issue',
      'create',
      'issue',
      'create',
      'issue',
    ]);
    expect(splitWords('HTTPServer v2 a 42')).toEqual(['http', 'server', 'v2']);
  });

  it('stems plural, -ing, -ed and -ly endings to one form', () => {
    for (const forms of [
      ['file', 'files'],
      ['list', 'listing', 'lists', 'listed'],
      ['create', 'creating', 'created', 'creates'],
      ['entity', 'entities'],
      ['run', 'running'],
      ['search', 'searches', 'searching'],
      ['recursive', 'recursively'],
    ]) {
      expect(new Set(forms.map(stem)).size, forms.join()).toBe(1);
    }
    expect(stem('status')).toBe('status');
  });

  it('drops filler words and spells out abbreviations', () => {
    expect(queryTerms('merge a PR').map((t) => t.term)).toEqual(['merg', 'pull', 'request']);
    expect(queryTerms('send a msg').map((t) => t.term)).toEqual(['send', 'messag']);
    expect(queryTerms('remove it')[0]?.alternatives).toContain('delet');
  });
});
