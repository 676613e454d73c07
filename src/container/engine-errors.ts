import { RuntimeUnavailableError, errorMessage } from '../errors.js';

/** Socket errors that mean nothing answers at the engine's address (or it hung up on us). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Whether `error` (or one of its causes) says the engine's API could not be reached, as
 * opposed to an answer from the engine refusing what we asked: a stopped or restarting
 * Podman service or dockerd. An ENOENT counts only from `connect` (a missing socket file),
 * never from a file the engine could not find.
 */
export function isEngineUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const { code, syscall, message, cause } = current as {
      code?: unknown;
      syscall?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
      if (code !== 'ENOENT' || syscall === 'connect') return true;
    }
    if (typeof message === 'string' && /^socket hang up$/.test(message)) return true;
    current = cause;
  }
  return false;
}

/** The deepest message in a cause chain: the socket error itself, without our wrappers. */
export function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (!(cause instanceof Error)) break;
    current = cause;
  }
  return errorMessage(current);
}

/** The error for a call that needs the engine while it does not answer. */
export function engineDownError(dockerHost: string, error: unknown): RuntimeUnavailableError {
  return new RuntimeUnavailableError(
    `The container engine at ${dockerHost} is not answering (${rootMessage(error)}): it is stopped or restarting, so no sandbox could be started. Start it, or wait until it is back, and call again.`,
    { cause: error },
  );
}
