import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { MAX_RECENT } from '../../state/history-store.js';
import { cellCode, codeText, timeoutSeconds } from '../run-python-args.js';
import { toolInputSchema } from '../tool-input-schema.js';

/** The Python-executor seed's six tools, with its names and parameters (README, executor). */
export const EXECUTOR_TOOL_NAMES = [
  'execute_python_code',
  'install_python_package',
  'list_installed_packages',
  'get_execution_history',
  'clear_execution_history',
  'check_code_safety',
] as const;
export type ExecutorToolName = (typeof EXECUTOR_TOOL_NAMES)[number];

export function isExecutorTool(name: string): name is ExecutorToolName {
  return (EXECUTOR_TOOL_NAMES as readonly string[]).includes(name);
}

const DESCRIPTIONS: Record<ExecutorToolName, string> = {
  execute_python_code:
    'Execute Python code in the sandbox (same persistent session as run_python). Refused when the static safety check finds dangerous code, unless allow_unsafe.',
  install_python_package:
    'Install a Python package into the sandbox package store (subject to policy).',
  list_installed_packages: 'List packages installed in the package store.',
  get_execution_history: 'Recent code executions, newest first.',
  clear_execution_history: 'Delete the execution history.',
  check_code_safety:
    'Static safety report on Python code (advisory; the container is the boundary).',
};

function buildSchemas(defaultTimeoutSeconds: number) {
  return {
    execute_python_code: z.object({
      code: cellCode.describe('Python code to execute'),
      timeout: timeoutSeconds.optional().describe(`Seconds (default ${defaultTimeoutSeconds})`),
      allow_unsafe: z
        .boolean({ error: "'allow_unsafe' must be a boolean" })
        .optional()
        .describe('Run even if the safety check fails (default false)'),
    }),
    install_python_package: z.object({
      package_name: z
        .string({ error: "Missing 'package_name' argument" })
        .min(1, "Missing 'package_name' argument")
        .describe('Package name, optionally with a version specifier'),
    }),
    list_installed_packages: z.object({}),
    get_execution_history: z.object({
      limit: z
        .number({ error: "'limit' must be an integer" })
        .int("'limit' must be an integer")
        .min(1, `'limit' must be from 1 to ${MAX_RECENT}`)
        .max(MAX_RECENT, `'limit' must be from 1 to ${MAX_RECENT}`)
        .optional()
        .describe('How many (default 20)'),
    }),
    clear_execution_history: z.object({}),
    check_code_safety: z.object({
      code: codeText.describe('Python code to check'),
    }),
  } satisfies Record<ExecutorToolName, z.ZodObject>;
}

export type ExecutorSchemas = ReturnType<typeof buildSchemas>;

/** One set per default timeout (the config's, for the process's life). */
const schemas = new Map<number, ExecutorSchemas>();

/**
 * The executor tools' arguments: what validation accepts, and (their descriptions naming
 * the default timeout) what the tools advertise as their inputSchemas.
 */
export function executorArgumentSchemas(defaultTimeoutSeconds: number): ExecutorSchemas {
  let built = schemas.get(defaultTimeoutSeconds);
  if (!built) {
    built = buildSchemas(defaultTimeoutSeconds);
    schemas.set(defaultTimeoutSeconds, built);
  }
  return built;
}

export function executorTools(defaultTimeoutSeconds: number): Tool[] {
  const argumentSchemas = executorArgumentSchemas(defaultTimeoutSeconds);
  return EXECUTOR_TOOL_NAMES.map((name) => ({
    name,
    description: DESCRIPTIONS[name],
    inputSchema: toolInputSchema(argumentSchemas[name]),
  }));
}
