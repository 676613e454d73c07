import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The soak's mix of work (bench/soak-bench.ts): a fixed cycle of run_python calls, each
 * with the check its result must pass. Per 10 calls: a proxied MCP call, an exception, a
 * 200 kB print, a session-state write, `sys.exit(3)`, a stderr write (every 5th of those
 * a `save_tool`, which writes to the state dir) and four prints; every `timeoutEvery`-th
 * call is a timeout instead.
 */

export interface SoakSettings {
  /** Calls in all, warm-up included. */
  calls: number;
  /** Calls before the baseline sample (JIT, caches, the first sandbox and server). */
  warmup: number;
  /** Every n-th call is a timeout (a 1 s call that sleeps longer and is interrupted). */
  timeoutEvery: number;
}

export interface Work {
  kind: string;
  args: Record<string, unknown>;
  /** Whether the result is what this work must give. */
  check(result: CallToolResult): boolean;
}

export function resultFields(result: CallToolResult): {
  status: string;
  stdout: string[];
  summary: string;
} {
  const payload = (result.structuredContent ?? {}) as {
    status?: string;
    stdout?: string[];
    summary?: string;
  };
  return {
    status: payload.status ?? 'success',
    stdout: payload.stdout ?? [],
    summary: payload.summary ?? '',
  };
}

const printed = (expected: string[]) => (result: CallToolResult) =>
  resultFields(result).status === 'success' &&
  JSON.stringify(resultFields(result).stdout) === JSON.stringify(expected);

/** The work of call `index`: a fixed cycle, with the rarer kinds spread through it. */
export function soakWork(index: number, settings: SoakSettings): Work {
  if (index % settings.timeoutEvery === settings.timeoutEvery - 1) {
    return {
      kind: 'timeout',
      args: { code: 'import time\ntime.sleep(30)', timeout: 1 },
      check: (result) => resultFields(result).status === 'timeout',
    };
  }
  switch (index % 10) {
    case 0:
      return {
        kind: 'proxied call',
        args: {
          code: `print((await mcp_everything.echo(message="s${index}")).text)`,
          servers: ['everything'],
        },
        check: printed([`Echo: s${index}`]),
      };
    case 1:
      return {
        kind: 'exception',
        args: { code: `raise ValueError("soak ${index}")` },
        check: (result) => /ValueError: soak \d+/.test(resultFields(result).summary),
      };
    case 2:
      return {
        kind: 'big output (200 kB)',
        args: { code: 'print("x" * 200_000)' },
        check: (result) => resultFields(result).stdout[0]?.length === 200_000,
      };
    case 3:
      return {
        kind: 'session state write',
        args: {
          code: `rows = globals().setdefault("rows", [])\nrows.append(${index})\ndel rows[:-100]\nprint(rows[-1])`,
        },
        check: printed([String(index)]),
      };
    case 4:
      return {
        kind: 'sys.exit(3)',
        args: { code: 'import sys\nsys.exit(3)' },
        check: (result) => resultFields(result).summary === 'Error: exit code 3',
      };
    case 5:
      return index % 50 === 5
        ? {
            kind: 'state-dir write (save_tool)',
            args: {
              code: `def soak_tool():\n    return ${index}\nprint(save_tool(soak_tool), soak_tool())`,
            },
            check: printed([`soak_tool ${index}`]),
          }
        : {
            kind: 'stderr',
            args: { code: `import sys\nprint("warn ${index}", file=sys.stderr)` },
            check: (result) => resultFields(result).status === 'success',
          };
    default:
      return {
        kind: 'print',
        args: { code: `print(${index})` },
        check: printed([String(index)]),
      };
  }
}
