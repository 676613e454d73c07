import { CAPABILITY_SUMMARY } from './capabilities.js';

/** A host folder as the agent sees it: where, and whether it may write there. */
export interface MountView {
  target: string;
  writable: boolean;
}

/**
 * The manual's paragraph on the user's host folders (MCP_BRIDGE_MOUNTS), so the agent
 * finds them; '' when there are none. Host paths are left out: the agent works with the
 * sandbox's paths, and the host's layout is none of its business.
 */
export function mountsSection(mounts: readonly MountView[]): string {
  if (mounts.length === 0) return '';
  const lines = mounts.map(
    (mount) =>
      `- \`${mount.target}\`: ${mount.writable ? 'read-write (files you write here appear on the host)' : 'read-only'}`,
  );
  return [
    '',
    "**Files in.** The user's host folders, mounted in the sandbox:",
    ...lines,
    'Writing to a read-only folder raises `OSError` (errno 30, read-only file system). Files',
    'there cannot be run as programs (noexec on Podman); read them with Python.',
    '',
  ].join('\n');
}

/** The manual with the host folders the sandbox gets. */
export function capabilitySummary(mounts: readonly MountView[]): string {
  return `${CAPABILITY_SUMMARY}${mountsSection(mounts)}`;
}
