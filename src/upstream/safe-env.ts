/**
 * The environment a spawned MCP server gets: a safelist of the bridge's own variables
 * (what a program needs to find its tools, home, locale, certificates and proxy) plus the
 * `env` of its configuration, which wins.
 *
 * Security: an allow-list, never a deny-list. The bridge's own settings (`MCP_BRIDGE_*`,
 * `MCP_SERVERS_CONFIG`) and whatever secrets its launcher put in its environment stay
 * with the bridge; a server that needs a token gets it from its own config entry.
 */
const POSIX_NAMES = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'TZ'];

const WINDOWS_NAMES = [
  'APPDATA',
  'COMSPEC',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATH',
  'PATHEXT',
  'PROCESSOR_ARCHITECTURE',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERNAME',
  'USERPROFILE',
  'WINDIR',
];

/** Locale, temp and runtime dirs, CA bundles, proxies and package-manager caches. */
const COMMON_NAMES = [
  'LANG',
  'LANGUAGE',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
  'npm_config_cache',
  'npm_config_registry',
  'NPM_CONFIG_CACHE',
  'NPM_CONFIG_REGISTRY',
  'UV_CACHE_DIR',
  'PIP_CACHE_DIR',
];

const PREFIXES = ['LC_'];

/** The variables a spawned server inherits from `hostEnv`, before its config's `env`. */
export function inheritedEnvironment(
  hostEnv: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  const windows = platform === 'win32';
  const wanted = new Set(
    [...(windows ? WINDOWS_NAMES : POSIX_NAMES), ...COMMON_NAMES].map((name) =>
      windows ? name.toUpperCase() : name,
    ),
  );
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(hostEnv)) {
    if (value === undefined) continue;
    // Security: exported shell functions (`() { …}`) are how Shellshock travelled.
    if (value.startsWith('()')) continue;
    const lookup = windows ? key.toUpperCase() : key;
    if (wanted.has(lookup) || PREFIXES.some((prefix) => lookup.startsWith(prefix))) {
      result[key] = value;
    }
  }
  return result;
}

/** The full environment for a spawned server: the inherited safelist, then its config's `env`. */
export function serverEnvironment(
  configEnv: Readonly<Record<string, string>>,
  hostEnv: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Record<string, string> {
  return { ...inheritedEnvironment(hostEnv, platform), ...configEnv };
}
