import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolPolicyConfig } from '../config/servers-config.js';

/** What the policy says of one tool: run it, ask a person first, or refuse it. */
export type ToolVerdict = 'allow' | 'ask' | 'deny';

export interface PolicyDecision {
  verdict: ToolVerdict;
  /** Why, in words for the prompt and the refusal (e.g. "it matches deny pattern `rm_*`"). */
  reason: string;
  /** True when a pattern of the server's `tools` block decided (not the default). */
  byPattern: boolean;
}

/**
 * Whether `name` matches `pattern`: `*` is any run of characters (none included), `?`
 * exactly one; everything else is itself, case-sensitive. Linear in practice (the usual
 * two-pointer wildcard match backtracks only to the last `*`), so no pattern can make it
 * slow, unlike a pattern turned into a regular expression.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (n < name.length) {
    const want = pattern[p];
    if (want === '*') {
      starAt = p;
      resumeAt = n;
      p += 1;
    } else if (want !== undefined && (want === '?' || want === name[n])) {
      p += 1;
      n += 1;
    } else if (starAt >= 0) {
      p = starAt + 1;
      resumeAt += 1;
      n = resumeAt;
    } else return false;
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/**
 * The policy for one tool. Precedence: a `deny` pattern, then an `ask` pattern, then an
 * `allow` pattern, then the default: `ask` for a tool its server annotates as destructive
 * (`destructiveHint: true`, and not `readOnlyHint: true`), else `allow`. The annotations
 * are the bridge's own copy of the server's tools/list, never anything the sandbox sent;
 * a tool the list does not have gets the default of a plain tool.
 */
export function resolveToolPolicy(
  policy: ToolPolicyConfig | undefined,
  tool: string,
  listed: Pick<Tool, 'annotations'> | undefined,
): PolicyDecision {
  const first = (patterns: readonly string[] | undefined) =>
    patterns?.find((pattern) => globMatches(pattern, tool));
  const deny = first(policy?.deny);
  if (deny !== undefined) {
    return { verdict: 'deny', reason: `it matches deny pattern \`${deny}\``, byPattern: true };
  }
  const ask = first(policy?.ask);
  if (ask !== undefined) {
    return { verdict: 'ask', reason: `it matches ask pattern \`${ask}\``, byPattern: true };
  }
  const allow = first(policy?.allow);
  if (allow !== undefined) {
    return { verdict: 'allow', reason: `it matches allow pattern \`${allow}\``, byPattern: true };
  }
  const hints = listed?.annotations;
  if (hints?.destructiveHint === true && hints.readOnlyHint !== true) {
    return {
      verdict: 'ask',
      reason: 'its server marks it destructive (destructiveHint)',
      byPattern: false,
    };
  }
  return {
    verdict: 'allow',
    reason: 'no pattern matches and it is not marked destructive',
    byPattern: false,
  };
}
