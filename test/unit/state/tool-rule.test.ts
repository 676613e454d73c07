import { describe, expect, it } from 'vitest';
import { toolNameProblem, toolSourceProblem } from '../../../src/state/tool-rule.js';
import { CASES } from '../../support/tool-rule-cases.js';

// The rule as the host reads it (no Python). The sandbox's reading of the same cases
// (python3): test/integration/saved-tool-rule.test.ts.
describe('saved-tool rule', () => {
  it('the host accepts and refuses what the table says, with the reason', () => {
    for (const [name, source, expected] of CASES) {
      const problem = toolSourceProblem(name, source);
      if (expected === undefined) expect(problem, `${name}: ${source}`).toBeUndefined();
      else expect(problem, `${name}: ${source}`).toMatch(expected);
    }
  });

  it('refuses names that are not identifiers, whatever their source', () => {
    for (const name of ['', '../x', 'a b', 'a.b', '1abc', 'x'.repeat(101)]) {
      expect(toolNameProblem(name)).toMatch(/not a valid tool name/);
    }
    expect(toolNameProblem('x'.repeat(100))).toBeUndefined();
  });
});
