import os from 'node:os';

const PREFIX = 'io.github.mcp-server-code-execution-mode';

/** Labels on every container we create, so leftovers of a dead bridge can be found. */
export const LABELS = {
  managed: `${PREFIX}.managed`,
  ownerHost: `${PREFIX}.owner-host`,
  ownerPid: `${PREFIX}.owner-pid`,
  role: `${PREFIX}.role`,
} as const;

export function ownerLabels(role: string): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.ownerHost]: os.hostname(),
    [LABELS.ownerPid]: String(process.pid),
    [LABELS.role]: role,
  };
}
