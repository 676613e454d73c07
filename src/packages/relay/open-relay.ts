import type { PackagesConfig } from '../../config/executor-env.js';
import type { Logger } from '../../logger.js';
import { packageSource } from '../package-source.js';
import { PackageRelay } from './package-relay.js';
import { defaultFileHosts, relayPolicy } from './relay-policy.js';

/**
 * The package relay for one install, when its source needs one (an index, with
 * MCP_BRIDGE_PACKAGES_NETWORK=relay); undefined otherwise. The caller closes it.
 */
export async function openPackageRelay(
  config: PackagesConfig,
  logger: Logger,
): Promise<PackageRelay | undefined> {
  const indexUrl = packageSource(config).relayedIndex;
  if (indexUrl === undefined) return undefined;
  const fileHosts = config.fileHosts ?? defaultFileHosts(indexUrl);
  return PackageRelay.open({
    policy: relayPolicy(indexUrl, fileHosts),
    logger: logger.child({ component: 'package-relay' }),
  });
}
