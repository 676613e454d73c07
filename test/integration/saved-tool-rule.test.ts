import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SANDBOX_DIR } from '../support/sandbox-process.js';
import { acceptedAtRandom, CASES } from '../support/tool-rule-cases.js';

/**
 * The saved-tool rule as the sandbox reads it (sandbox/mcp/_tool_rule.py, Python's ast,
 * under the host's python3) gives the host's verdicts (src/state/tool-rule.ts) on one
 * table of cases.
 */

function pythonVerdicts(
  cases: [string, string][] = CASES.map(([name, source]) => [name, source]),
): (string | null)[] {
  const script = [
    'import importlib.util, json, sys',
    `spec = importlib.util.spec_from_file_location("rule", ${JSON.stringify(path.join(SANDBOX_DIR, 'mcp', '_tool_rule.py'))})`,
    'rule = importlib.util.module_from_spec(spec); spec.loader.exec_module(rule)',
    'cases = json.load(sys.stdin)',
    'print(json.dumps([rule.tool_problem(name, source) for name, source in cases]))',
  ].join('\n');
  const output = execFileSync('python3', ['-I', '-c', script], {
    input: JSON.stringify(cases),
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(output) as (string | null)[];
}

describe('saved-tool rule in Python', () => {
  it("the sandbox's Python check gives the same verdicts", () => {
    const verdicts = pythonVerdicts();
    CASES.forEach(([name, source, expected], index) => {
      const problem = verdicts[index] ?? undefined;
      if (expected === undefined) expect(problem, `${name}: ${source}`).toBeUndefined();
      else expect(problem, `${name}: ${source}`).toMatch(expected);
    });
  });

  it('what the host accepts, Python reads as one plain def or cannot compile (random sources)', () => {
    const accepted = acceptedAtRandom(20_000);
    expect(accepted.length).toBeGreaterThan(1000);
    const verdicts = pythonVerdicts(accepted.map((source) => ['f', source]));
    const wrong = accepted.filter((_, index) => {
      const problem = verdicts[index];
      return typeof problem === 'string' && !problem.startsWith('its source does not compile');
    });
    expect(wrong).toEqual([]);
  });
});
