import type { RunReport } from '../session/sandbox-session.js';
import { outputLines, type RunPayload } from './payload.js';

/** Turns what happened in the sandbox into the payload the agent sees. */
export function reportToPayload(
  report: RunReport,
  context: { timeoutSeconds: number; servers: string[] },
): RunPayload {
  const common = {
    exitCode: report.exitCode,
    stdout: outputLines(report.stdout),
    stderr: outputLines(report.stderr),
    servers: context.servers,
    notices: report.notices,
  };
  switch (report.outcome) {
    case 'completed':
      if (report.exitCode === 0) {
        const printed = common.stdout.length > 0 || common.stderr.length > 0;
        return {
          status: 'success',
          summary: printed ? 'Success' : 'Success (no output)',
          ...common,
        };
      }
      return {
        status: 'error',
        summary: `Error: exit code ${report.exitCode ?? 'unknown'}`,
        ...common,
      };
    case 'exception': {
      // The exception line is the last one, unless a truncation marker follows it.
      const last =
        common.stderr.findLast((line) => !line.startsWith('[output truncated'))?.trim() ??
        'exception';
      return { status: 'error', summary: `Error: ${truncate(last, 200)}`, ...common };
    }
    case 'timeout':
      return {
        status: 'timeout',
        summary: `Timeout: execution exceeded ${context.timeoutSeconds}s`,
        ...common,
        error:
          report.lostReason ??
          `Execution exceeded ${context.timeoutSeconds}s and was interrupted; the session state (variables, imports) was kept.`,
        timeoutSeconds: context.timeoutSeconds,
      };
    case 'cancelled':
      // MCP clients drop a cancelled call's result; this payload is for the history.
      return {
        status: 'cancelled',
        summary: 'Cancelled by the client',
        ...common,
        error:
          report.lostReason ??
          (report.exitCode === undefined
            ? 'The client cancelled the call before it started; the code did not run.'
            : 'The client cancelled the call; the code was interrupted and the session state (variables, imports) was kept.'),
      };
    case 'died':
      return {
        status: 'error',
        summary: `Sandbox error: ${report.lostReason ?? 'the sandbox stopped'}`,
        ...common,
        error: report.lostReason,
      };
  }
}

/** The payload for a failure outside the user's code: no engine, image, hardening, queue. */
export function sandboxErrorPayload(message: string, servers: string[]): RunPayload {
  return { status: 'error', summary: `Sandbox error: ${message}`, error: message, servers };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
