import { z } from 'zod';
import { integer } from './env-values.js';

/**
 * Settings of approvals for proxied calls (README, "Approvals"; docs/servers.md): parsed
 * with the rest of the environment.
 */
export const approvalsEnvShape = {
  MCP_BRIDGE_APPROVALS: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['ask', 'strict', 'off']))
    .default('ask')
    .describe(
      'ask: prompt for `ask` tools (a client that cannot be asked: run them, say so in the result); strict: refuse them when the client cannot be asked; off: never ask',
    ),
  MCP_BRIDGE_APPROVAL_TIMEOUT: integer(1, 86_400)
    .default(120)
    .describe('Seconds an approval prompt waits for an answer; no answer denies the call'),
};

export type ApprovalMode = 'ask' | 'strict' | 'off';

export interface ApprovalsConfig {
  /** MCP_BRIDGE_APPROVALS. */
  mode: ApprovalMode;
  /** MCP_BRIDGE_APPROVAL_TIMEOUT, in ms. */
  timeoutMs: number;
}

export function approvalsConfig(e: {
  MCP_BRIDGE_APPROVALS: ApprovalMode;
  MCP_BRIDGE_APPROVAL_TIMEOUT: number;
}): ApprovalsConfig {
  return { mode: e.MCP_BRIDGE_APPROVALS, timeoutMs: e.MCP_BRIDGE_APPROVAL_TIMEOUT * 1000 };
}
