import { flag, integer } from './env-values.js';

/**
 * Settings of the audit trail of proxied calls (README, "Audit trail"): parsed with the
 * rest of the environment.
 */
export const auditEnvShape = {
  MCP_BRIDGE_AUDIT_ARGS: flag
    .default(false)
    .describe('Also store the arguments of each proxied call (at most 64 KiB each)'),
  MCP_BRIDGE_AUDIT_MAX: integer(100, 10_000_000)
    .default(10_000)
    .describe('Proxied calls kept in the audit trail; the oldest are deleted beyond it'),
};

export interface AuditConfig {
  /** MCP_BRIDGE_AUDIT_ARGS: keep each call's arguments (bounded), not only size and digest. */
  storeArguments: boolean;
  /** MCP_BRIDGE_AUDIT_MAX: rows kept; older ones are deleted. */
  maxEntries: number;
}

export function auditConfig(e: {
  MCP_BRIDGE_AUDIT_ARGS: boolean;
  MCP_BRIDGE_AUDIT_MAX: number;
}): AuditConfig {
  return { storeArguments: e.MCP_BRIDGE_AUDIT_ARGS, maxEntries: e.MCP_BRIDGE_AUDIT_MAX };
}
