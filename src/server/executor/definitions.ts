import type { Tool } from '@modelcontextprotocol/sdk/types.js';

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

const noArguments = { type: 'object' as const, properties: {} };

export function executorTools(defaultTimeoutSeconds: number): Tool[] {
  return [
    {
      name: 'execute_python_code',
      description:
        'Execute Python code in the sandbox (same persistent session as run_python). Refused when the static safety check finds dangerous code, unless allow_unsafe.',
      inputSchema: {
        type: 'object',
        properties: {
          code: { type: 'string', description: 'Python code to execute' },
          timeout: {
            type: 'integer',
            minimum: 1,
            description: `Seconds (default ${defaultTimeoutSeconds})`,
          },
          allow_unsafe: {
            type: 'boolean',
            description: 'Run even if the safety check fails (default false)',
          },
        },
        required: ['code'],
      },
    },
    {
      name: 'install_python_package',
      description: 'Install a Python package into the sandbox package store (subject to policy).',
      inputSchema: {
        type: 'object',
        properties: {
          package_name: {
            type: 'string',
            description: 'Package name, optionally with a version specifier',
          },
        },
        required: ['package_name'],
      },
    },
    {
      name: 'list_installed_packages',
      description: 'List packages installed in the package store.',
      inputSchema: noArguments,
    },
    {
      name: 'get_execution_history',
      description: 'Recent code executions, newest first.',
      inputSchema: {
        type: 'object',
        properties: {
          limit: { type: 'integer', minimum: 1, description: 'How many (default 20)' },
        },
      },
    },
    {
      name: 'clear_execution_history',
      description: 'Delete the execution history.',
      inputSchema: noArguments,
    },
    {
      name: 'check_code_safety',
      description: 'Static safety report on Python code (advisory; the container is the boundary).',
      inputSchema: {
        type: 'object',
        properties: { code: { type: 'string', description: 'Python code to check' } },
        required: ['code'],
      },
    },
  ];
}
