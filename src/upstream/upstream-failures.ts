import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../config/servers-config.js';
import { errorMessage } from '../errors.js';
import { UpstreamError } from './upstream-errors.js';
import { commandLine, formatDuration, stderrExcerpt } from './upstream-messages.js';

/** What an error message needs to know about the connection that failed. */
export interface FailedConnection {
  exited: boolean;
  /** The signal that killed the process, when one did (e.g. SIGKILL from outside). */
  killedBy?: NodeJS.Signals | null | undefined;
  lastTransportError: string | undefined;
  stderrLines: readonly string[];
}

function isTimeout(error: unknown): boolean {
  return error instanceof McpError && error.code === Number(ErrorCode.RequestTimeout);
}

/** The error for a start that failed, and a short reason for later backoff messages. */
export function startFailure(
  definition: ServerDefinition,
  connection: FailedConnection,
  error: unknown,
  initTimeoutMs: number,
): { error: UpstreamError; reason: string } {
  const spawnCode = (error as NodeJS.ErrnoException).code;
  let reason: string;
  let details = '.';
  if (typeof spawnCode === 'string') {
    reason = `could not be started: ${errorMessage(error)}`;
    details = spawnCode === 'ENOENT' ? '. Is the command installed and on PATH?' : '.';
  } else if (isTimeout(error)) {
    reason = `did not finish initializing within ${formatDuration(initTimeoutMs)}`;
    details = '; it was stopped.';
  } else if (connection.exited) {
    reason = 'exited during startup, before it finished initializing';
  } else {
    reason = `failed to initialize: ${errorMessage(error)}`;
  }
  const message =
    `MCP server '${definition.name}' ${reason}${details} ` +
    `Command: ${commandLine(definition)}.${stderrExcerpt(connection.stderrLines)}`;
  return {
    error: new UpstreamError('upstream_start_failed', definition.name, message, { cause: error }),
    reason,
  };
}

/** The error for a request (`what`: "'echo'", "tools/list") that did not get an answer. */
export function requestFailure(
  server: string,
  connection: FailedConnection,
  error: unknown,
  context: { what: string; cancelled: boolean; timeoutMs: number; restart: string },
): UpstreamError {
  const prefix = `MCP server '${server}'`;
  const { what } = context;
  if (connection.exited) {
    const cause = connection.lastTransportError ? ` (${connection.lastTransportError})` : '';
    const ended = connection.killedBy ? `was killed by ${connection.killedBy}` : 'exited';
    return new UpstreamError(
      'upstream_crashed',
      server,
      `${prefix} ${ended}${cause} while ${what} was running; ${context.restart}.` +
        stderrExcerpt(connection.stderrLines),
      { cause: error },
    );
  }
  if (context.cancelled) {
    return new UpstreamError(
      'upstream_cancelled',
      server,
      `The call to ${what} on ${prefix} was cancelled; the server was asked to stop it.`,
      { cause: error },
    );
  }
  if (isTimeout(error)) {
    return new UpstreamError(
      'upstream_timeout',
      server,
      `${prefix} did not answer ${what} within ${formatDuration(context.timeoutMs)}; ` +
        'the request was cancelled. The server stays available for other calls.',
      { cause: error },
    );
  }
  return new UpstreamError(
    'upstream_call_failed',
    server,
    `${prefix} failed ${what}: ${errorMessage(error)}`,
    {
      cause: error,
    },
  );
}

/** The error for work refused or interrupted because the bridge is stopping. */
export function closedFailure(server: string, cause?: unknown, what?: string): UpstreamError {
  const during = what ? ` while ${what} was running` : '';
  return new UpstreamError(
    'upstream_closed',
    server,
    `MCP server '${server}' was shut down${during} (the bridge is stopping).`,
    { cause },
  );
}
