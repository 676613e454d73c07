import type { SandboxSession } from '../session/sandbox-session.js';

/** How long the bridge's own helper cells (safety check, package listing) may run. */
const INTERNAL_CELL_TIMEOUT_SECONDS = 30;
const RESULT_MARKER = '__mcp_bridge_result__';

/**
 * A Python expression as source text, evaluated without touching the user's namespace:
 * no assignments, only `__import__` (so `_` names and the user's variables are left alone).
 */
export function pythonCall(module: string, func: string, args: unknown[]): string {
  const json = `__import__('json')`;
  const encoded = args.map((arg) => `${json}.loads(${JSON.stringify(JSON.stringify(arg))})`);
  return `${json}.dumps(__import__(${JSON.stringify(module)}, fromlist=['_']).${func}(${encoded.join(', ')}))`;
}

/**
 * Runs a helper in the session and returns the JSON value it printed. JSON string
 * literals are valid Python string literals, so no argument can break out of the call.
 */
export async function runInternalCell(
  session: SandboxSession,
  expression: string,
): Promise<unknown> {
  const code = `print(${JSON.stringify(RESULT_MARKER)} + ${expression})`;
  const report = await session.run(code, INTERNAL_CELL_TIMEOUT_SECONDS, {}, { internal: true });
  const line = report.stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_MARKER));
  if (report.outcome !== 'completed' || report.exitCode !== 0 || line === undefined) {
    const detail = report.lostReason ?? report.stderr.trim().split('\n').at(-1) ?? report.outcome;
    throw new Error(`The sandbox helper failed: ${detail}`);
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as unknown;
}
