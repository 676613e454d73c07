import { z } from 'zod';
import { DEFAULT_SESSION } from '../util/default-session.js';

export interface RunPythonLimits {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
}

export interface RunPythonArgs {
  code: string;
  servers: string[];
  timeoutSeconds: number;
  /** The named session the call runs in (SESSION_NAME; `default` when not given). */
  session: string;
}

/**
 * A session name: it becomes a container label value and part of a folder name, so only
 * `[A-Za-z0-9_.-]` (`\w` is ASCII-only without the `u` flag, in JSON Schema too), 1 to 64
 * characters, and not `.` or `..` (checked apart: the advertised pattern stays short).
 */
export const SESSION_NAME_PATTERN = /^[\w.-]{1,64}$/;
const BAD_SESSION =
  "'session' must be 1-64 characters of letters, digits, '_', '.' or '-' (and not '.' or '..')";

/** A session name, as run_python's `session` argument. */
export const sessionName = z
  .string({ error: BAD_SESSION })
  .regex(SESSION_NAME_PATTERN, BAD_SESSION)
  .refine((name) => name !== '.' && name !== '..', BAD_SESSION);

/** The largest cell accepted; far above any real cell, far below what hurts the host. */
const MAX_CODE_CHARS = 4 * 1024 * 1024;
/** The most servers one call may name. */
const MAX_SERVERS = 100;

const MISSING_CODE = "Missing 'code' argument";

/** Python source, at most MAX_CODE_CHARS. */
export const codeText = z
  .string({ error: MISSING_CODE })
  .max(MAX_CODE_CHARS, `'code' is too long (the limit is ${MAX_CODE_CHARS} characters)`);

/**
 * Python to run: not blank (`\S`, the same test as `trim() !== ''`, written as a pattern
 * so that the advertised schema carries it too). Shared by every tool that runs a cell.
 */
export const cellCode = codeText.regex(/\S/, MISSING_CODE);

/** A cell's timeout in seconds; values above the configured maximum are clamped, not refused. */
export const timeoutSeconds = z
  .number({ error: "'timeout' must be an integer" })
  .int("'timeout' must be an integer")
  .min(1, "'timeout' must be at least 1 second");

function buildSchema(limits: RunPythonLimits) {
  return z.object({
    code: cellCode.describe('Python source; top-level await allowed'),
    servers: z
      .array(z.string({ error: "'servers' must be a list of server names" }), {
        error: "'servers' must be a list",
      })
      .max(MAX_SERVERS, `'servers' lists too many servers (the limit is ${MAX_SERVERS})`)
      .optional()
      .describe('MCP servers to load as mcp_<name> for this call'),
    timeout: timeoutSeconds
      .optional()
      .describe(
        `Seconds (default ${limits.defaultTimeoutSeconds}, at most ${limits.maxTimeoutSeconds})`,
      ),
    session: sessionName.optional().describe('Separate state, runs in parallel'),
  });
}

export type RunPythonArgsSchema = ReturnType<typeof buildSchema>;

/** One schema per limits object (the config's, for the process's life). */
const schemas = new WeakMap<RunPythonLimits, RunPythonArgsSchema>();

/**
 * run_python's arguments: what validation accepts, and (its descriptions naming the
 * limits) what the tool advertises as its inputSchema.
 */
export function runPythonArgsSchema(limits: RunPythonLimits): RunPythonArgsSchema {
  let schema = schemas.get(limits);
  if (!schema) {
    schema = buildSchema(limits);
    schemas.set(limits, schema);
  }
  return schema;
}

export type ParsedArgs = { ok: true; args: RunPythonArgs } | { ok: false; message: string };

/** Validates run_python's arguments; a timeout above the maximum is clamped, not refused. */
export function parseRunPythonArgs(raw: unknown, limits: RunPythonLimits): ParsedArgs {
  const parsed = runPythonArgsSchema(limits).safeParse(raw ?? {});
  if (!parsed.success) {
    return { ok: false, message: parsed.error.issues[0]?.message ?? 'Invalid arguments' };
  }
  const { code, servers, timeout, session } = parsed.data;
  return {
    ok: true,
    args: {
      code,
      servers: [...new Set(servers ?? [])],
      timeoutSeconds: Math.min(timeout ?? limits.defaultTimeoutSeconds, limits.maxTimeoutSeconds),
      session: session ?? DEFAULT_SESSION,
    },
  };
}
