import { summarizeOutput, type InstallerRun } from './installer-run.js';
import type { InstallResult } from './install-result.js';
import type { PackageSpec } from './package-spec.js';
import type { RelayRefusal } from './relay/package-relay.js';

/** How an installer run reads to the agent (docs/packages.md, results). */

const REFUSALS_SHOWN = 3;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Turns a finished installer run into the agent-facing outcome. */
export function describeRun(
  spec: PackageSpec,
  run: InstallerRun,
  timeoutSeconds: number,
  refusals: readonly RelayRefusal[] = [],
): Omit<InstallResult, 'package' | 'installedAt'> {
  const what = spec.requirement;
  const pip = summarizeOutput(run.output);
  const relay = describeRefusals(refusals);
  const withOutput = (message: string) => `${message}${relay}${pip ? `\npip said:\n${pip}` : ''}`;
  switch (run.outcome) {
    case 'failed-to-start':
      return {
        success: false,
        message: `Cannot install ${what}: the installer container could not run (${run.error ?? 'unknown error'}). With an index the engine must mount the package relay's folder (an engine in a VM or on another machine cannot: set MCP_BRIDGE_PACKAGES_NETWORK=engine); for offline use set MCP_BRIDGE_PACKAGES_FIND_LINKS to a folder of wheels.`,
      };
    case 'timeout':
      return {
        success: false,
        message: withOutput(
          `Installing ${what} took longer than ${timeoutSeconds} s (MCP_BRIDGE_PACKAGES_TIMEOUT) and was stopped; nothing was installed.`,
        ),
      };
    case 'aborted':
      return {
        success: false,
        message: `Installing ${what} was stopped because the call that asked for it ended; nothing was installed.`,
      };
    case 'finished':
      break;
  }
  const result = run.result;
  if (!result) {
    return {
      success: false,
      message: withOutput(
        `Installing ${what} failed: the installer ended (exit code ${run.exitCode ?? 'unknown'}) without a result.`,
      ),
    };
  }
  if (!result.ok) {
    const unreachable = refusals.length > 0 ? undefined : indexUnreachable(run.output);
    const why = unreachable
      ? `pip could not reach the package index (${unreachable}): check MCP_BRIDGE_PACKAGES_INDEX_URL (the bridge's host must reach it), or install offline from MCP_BRIDGE_PACKAGES_FIND_LINKS`
      : (result.error ?? 'unknown error');
    return { success: false, message: withOutput(`Installing ${what} failed: ${why}.`) };
  }
  const version = result.requested?.version ?? undefined;
  const installed = result.installed ?? [];
  if (result.alreadySatisfied) {
    return {
      success: true,
      message: `${spec.normalizedName}${version ? ` ${version}` : ''} is already installed (nothing to do).`,
      ...(version ? { version } : {}),
      installed: [],
    };
  }
  const others = installed.filter(
    (item) => item.name.toLowerCase() !== result.requested?.name.toLowerCase(),
  );
  const extra =
    others.length > 0
      ? ` with ${others.map((item) => `${item.name} ${item.version}`).join(', ')}`
      : '';
  return {
    success: true,
    message: `Installed ${spec.normalizedName}${version ? ` ${version}` : ''}${extra} in ${seconds(run.durationMs)}.`,
    ...(version ? { version } : {}),
    installed,
  };
}

/** Why pip could not connect to the index, when its retry warnings say so. */
export function indexUnreachable(output: string): string | undefined {
  const match =
    /Failed to establish a new connection: (?:\[Errno -?\d+\] )?([^'")]+)/.exec(output) ??
    // Through the package relay: it answered CONNECT with an error (e.g. 502).
    /Tunnel connection failed: ([^'")]+)/.exec(output) ??
    /(Read timed out|Connection refused|Network is unreachable|Name or service not known)/.exec(
      output,
    );
  return match?.[1]?.trim();
}

/** What the package relay refused during the install, as a sentence (or ''). */
export function describeRefusals(refusals: readonly RelayRefusal[]): string {
  if (refusals.length === 0) return '';
  const shown = refusals
    .slice(0, REFUSALS_SHOWN)
    .map((refusal) => `${refusal.request} (${refusal.reason})`);
  const more =
    refusals.length > REFUSALS_SHOWN ? `; and ${refusals.length - REFUSALS_SHOWN} more` : '';
  return `\nThe bridge's package relay refused what pip asked for: ${shown.join('; ')}${more}. The installer reaches only the index and its file hosts (MCP_BRIDGE_PACKAGES_FILE_HOSTS).`;
}
