import { describe, expect, it } from 'vitest';
import { identifierFor, serverAliases, toolAliases } from '../../../src/upstream/aliases.js';

describe('identifierFor', () => {
  it('lower-cases and keeps [a-z0-9_]', () => {
    expect(identifierFor('GitHub')).toBe('github');
    expect(identifierFor('read_file')).toBe('read_file');
    expect(identifierFor('tool_2')).toBe('tool_2');
  });

  it('turns each run of other characters into one underscore', () => {
    expect(identifierFor('sequential-thinking')).toBe('sequential_thinking');
    expect(identifierFor('my  server!!v2')).toBe('my_server_v2');
    expect(identifierFor('get-tiny-image')).toBe('get_tiny_image');
    expect(identifierFor('a.b/c:d')).toBe('a_b_c_d');
    expect(identifierFor('café-tool')).toBe('caf_tool');
    expect(identifierFor('-lead')).toBe('_lead');
  });

  it('keeps underscores that are already there, including runs of them', () => {
    expect(identifierFor('__init__')).toBe('__init__');
    expect(identifierFor('a_-_b')).toBe('a___b');
  });

  it('prefixes a leading digit with an underscore', () => {
    expect(identifierFor('1password')).toBe('_1password');
    expect(identifierFor('42')).toBe('_42');
  });

  it('gives "_" for a name with nothing usable', () => {
    expect(identifierFor('')).toBe('_');
    expect(identifierFor('!!!')).toBe('_');
    expect(identifierFor('ünï')).toBe('_n_');
    expect(identifierFor('éè')).toBe('_');
  });
});

describe('serverAliases', () => {
  it('maps every name to its identifier', () => {
    const aliases = serverAliases(['filesystem', 'sequential-thinking', 'GitHub', '2fa']);
    expect([...aliases]).toEqual([
      ['filesystem', 'filesystem'],
      ['sequential-thinking', 'sequential_thinking'],
      ['GitHub', 'github'],
      ['2fa', '_2fa'],
    ]);
  });

  it('de-duplicates with _2, _3… in input order', () => {
    const aliases = serverAliases(['my-server', 'My Server', 'my_server', 'MY.SERVER']);
    expect([...aliases.values()]).toEqual([
      'my_server',
      'my_server_2',
      'my_server_3',
      'my_server_4',
    ]);
  });

  it('never reuses an alias that a later name would take verbatim', () => {
    const aliases = serverAliases(['a-b', 'a_b', 'a_b_2']);
    expect(new Set(aliases.values()).size).toBe(3);
    expect(aliases.get('a-b')).toBe('a_b');
    expect(aliases.get('a_b')).toBe('a_b_2');
    expect(aliases.get('a_b_2')).toBe('a_b_2_2');
  });

  it('de-duplicates names that are empty after cleaning', () => {
    expect([...serverAliases(['!', '?']).values()]).toEqual(['_', '__2']);
  });

  it('does not suffix Python keywords (server aliases get the mcp_ prefix)', () => {
    expect(serverAliases(['import', 'class']).get('import')).toBe('import');
  });

  it('gives one alias per distinct name', () => {
    expect(serverAliases(['x', 'x']).size).toBe(1);
    expect(serverAliases(['x', 'x']).get('x')).toBe('x');
  });
});

describe('toolAliases', () => {
  it('applies the server rules', () => {
    const aliases = toolAliases(['get-sum', 'Read File', '3d-render', 'read_file']);
    expect([...aliases.values()]).toEqual(['get_sum', 'read_file', '_3d_render', 'read_file_2']);
  });

  it('suffixes Python keywords with an underscore', () => {
    const keywords = ['import', 'class', 'from', 'lambda', 'async', 'await', 'yield', 'pass'];
    const aliases = toolAliases([...keywords, 'not', 'in', 'is', 'with', 'del', 'global']);
    for (const [name, alias] of aliases) expect(alias).toBe(`${name}_`);
  });

  it('suffixes names that become keywords once cleaned', () => {
    expect(toolAliases(['Import']).get('Import')).toBe('import_');
    expect(toolAliases(['RETURN']).get('RETURN')).toBe('return_');
  });

  it('leaves False/None/True (not keywords once lower-cased) and soft keywords alone', () => {
    const aliases = toolAliases(['None', 'True', 'False', 'match', 'case', 'type', 'print']);
    expect([...aliases.values()]).toEqual([
      'none',
      'true',
      'false',
      'match',
      'case',
      'type',
      'print',
    ]);
  });

  it('de-duplicates after the keyword suffix', () => {
    const aliases = toolAliases(['import', 'import_', 'IMPORT']);
    expect([...aliases.values()]).toEqual(['import_', 'import__2', 'import__3']);
  });

  it('gives valid Python identifiers for the whole captured catalog', async () => {
    const { loadCatalogs } = await import('../../../bench/search-recall.js');
    for (const { tools } of loadCatalogs()) {
      const aliases = toolAliases(tools.map((tool) => tool.name));
      expect(new Set(aliases.values()).size).toBe(tools.length);
      for (const alias of aliases.values()) expect(alias).toMatch(/^[a-z_][a-z0-9_]*$/);
    }
  });
});
