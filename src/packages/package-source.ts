import path from 'node:path';
import type { PackagesConfig } from '../config/executor-env.js';

/** Where the wheel folder (MCP_BRIDGE_PACKAGES_FIND_LINKS) appears inside the installer. */
export const WHEELS_MOUNT = '/wheels';
/** pip's own default, made explicit: pip config files and PIP_* variables are ignored. */
export const DEFAULT_INDEX_URL = 'https://pypi.org/simple';

export type InstallerSettings = Pick<
  PackagesConfig,
  'indexUrl' | 'findLinks' | 'allowSdist' | 'maxBytes' | 'deny' | 'volume' | 'network'
>;

/** Where the installer gets packages from, and the network that needs. */
export interface PackageSource {
  /** Undefined: the engine's default network (MCP_BRIDGE_PACKAGES_NETWORK=engine). */
  networkMode: 'none' | undefined;
  /** Options for every pip run: no prompts, no cache, no version check, wheels only. */
  pipOptions: string[];
  /** The one package source: an index, or the wheel folder with no index. */
  sourceOptions: string[];
  /** An absolute host folder to mount read-only at /wheels. */
  wheelFolder: string | undefined;
  /** The index URL pip reaches through the package relay; undefined: no relay. */
  relayedIndex: string | undefined;
}

/** The index installs use: MCP_BRIDGE_PACKAGES_INDEX_URL, PIP_INDEX_URL, else PyPI. */
export function indexUrlOf(settings: Pick<PackagesConfig, 'indexUrl'>): string {
  return settings.indexUrl ?? DEFAULT_INDEX_URL;
}

/**
 * pip's options for every install: no prompts, no cache, no version check, wheels only
 * unless sdists are allowed, and exactly one package source. Security: never
 * `--extra-index-url`, never `--trusted-host`; a wheel folder means no index at all.
 */
export function packageSource(settings: InstallerSettings): PackageSource {
  const pipOptions = ['--no-input', '--disable-pip-version-check', '--no-cache-dir'];
  if (!settings.allowSdist) pipOptions.push('--only-binary=:all:');
  if (settings.findLinks) {
    return {
      networkMode: 'none',
      pipOptions,
      sourceOptions: ['--no-index', '--find-links', WHEELS_MOUNT],
      wheelFolder: path.resolve(settings.findLinks),
      relayedIndex: undefined,
    };
  }
  const indexUrl = indexUrlOf(settings);
  const relayed = settings.network === 'relay';
  return {
    networkMode: relayed ? 'none' : undefined,
    pipOptions,
    sourceOptions: ['--index-url', indexUrl],
    wheelFolder: undefined,
    relayedIndex: relayed ? indexUrl : undefined,
  };
}
