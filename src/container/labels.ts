import os from 'node:os';

const PREFIX = 'io.github.mcp-server-code-execution-mode';

/** Labels on every container we create, so leftovers of a dead bridge can be found. */
export const LABELS = {
  managed: `${PREFIX}.managed`,
  ownerHost: `${PREFIX}.owner-host`,
  ownerPid: `${PREFIX}.owner-pid`,
  role: `${PREFIX}.role`,
  /** A sandbox's named session (run_python's `session`): one container per session. */
  session: `${PREFIX}.session`,
} as const;

/**
 * `session`: the sandbox's session name (already validated: `[A-Za-z0-9_.-]{1,64}`), so
 * one bridge's several sandboxes can be told apart.
 */
export function ownerLabels(role: string, session?: string): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.ownerHost]: os.hostname(),
    [LABELS.ownerPid]: String(process.pid),
    [LABELS.role]: role,
    ...(session === undefined ? {} : { [LABELS.session]: session }),
  };
}
