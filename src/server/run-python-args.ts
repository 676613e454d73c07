import { z } from 'zod';

export interface RunPythonLimits {
  defaultTimeoutSeconds: number;
  maxTimeoutSeconds: number;
}

export interface RunPythonArgs {
  code: string;
  servers: string[];
  timeoutSeconds: number;
}

/** The largest cell accepted; far above any real cell, far below what hurts the host. */
export const MAX_CODE_CHARS = 4 * 1024 * 1024;

const MISSING_CODE = "Missing 'code' argument";

const argsSchema = z.object({
  code: z
    .string({ error: MISSING_CODE })
    .refine((code) => code.trim() !== '', MISSING_CODE)
    .refine(
      (code) => code.length <= MAX_CODE_CHARS,
      `'code' is too long (the limit is ${MAX_CODE_CHARS} characters)`,
    ),
  servers: z
    .array(z.string({ error: "'servers' must be a list of server names" }), {
      error: "'servers' must be a list",
    })
    .max(100, "'servers' lists too many servers (the limit is 100)")
    .optional(),
  timeout: z
    .number({ error: "'timeout' must be an integer" })
    .int("'timeout' must be an integer")
    .min(1, "'timeout' must be at least 1 second")
    .optional(),
});

export type ParsedArgs = { ok: true; args: RunPythonArgs } | { ok: false; message: string };

/** Validates run_python's arguments; a timeout above the maximum is clamped, not refused. */
export function parseRunPythonArgs(raw: unknown, limits: RunPythonLimits): ParsedArgs {
  const parsed = argsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    return { ok: false, message: parsed.error.issues[0]?.message ?? 'Invalid arguments' };
  }
  const { code, servers, timeout } = parsed.data;
  return {
    ok: true,
    args: {
      code,
      servers: [...new Set(servers ?? [])],
      timeoutSeconds: Math.min(timeout ?? limits.defaultTimeoutSeconds, limits.maxTimeoutSeconds),
    },
  };
}
