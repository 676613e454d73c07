import net from 'node:net';
import { errorMessage } from '../../errors.js';
import { parseProxyRequest, type ProxyTarget } from './proxy-request.js';
import { withTimeout } from './relay-helpers.js';
import { matchOrigin, refuseAddress, type RelayPolicy } from './relay-policy.js';

/** Resolves a host name to its addresses. */
export type HostLookup = (host: string) => Promise<string[]>;

/** A target that passed every check, with the addresses that may be dialled. */
export interface RelayDecision {
  target: ProxyTarget;
  addresses: string[];
}

const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Whether the relay passes a request on: it must parse as a proxy request, match an origin
 * of the policy, and every address its host resolves to must be one that origin may
 * reach. The addresses checked are the ones dialled: a second lookup cannot change them.
 */
export async function decideRelayRequest(
  policy: RelayPolicy,
  lookup: HostLookup,
  method: string | undefined,
  url: string | undefined,
): Promise<{ ok: true; decision: RelayDecision } | { ok: false; reason: string }> {
  const parsed = parseProxyRequest(method, url);
  if (!parsed.ok) return parsed;
  const target = parsed.target;
  const matched = matchOrigin(policy, target);
  if (!matched.ok) return matched;
  let addresses: string[];
  try {
    addresses = net.isIP(target.host)
      ? [target.host]
      : await withTimeout(lookup(target.host), LOOKUP_TIMEOUT_MS);
  } catch (error: unknown) {
    return { ok: false, reason: `cannot resolve ${target.host}: ${errorMessage(error)}` };
  }
  if (addresses.length === 0) return { ok: false, reason: `${target.host} has no address` };
  for (const address of addresses) {
    const refused = refuseAddress(matched.origin, address);
    if (refused) return { ok: false, reason: refused };
  }
  return { ok: true, decision: { target, addresses } };
}
