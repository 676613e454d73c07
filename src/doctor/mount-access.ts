import type { CheckedHostMount } from '../container/host-mount-check.js';

/**
 * Python that reports, for each host folder, whether the sandbox's user can list it and
 * (for `rw` ones) write to it: one JSON line. Targets are our validated paths, passed
 * as JSON, so they cannot break out of the string.
 */
export function mountAccessCode(mounts: readonly CheckedHostMount[]): string {
  const targets = JSON.stringify(mounts.map((mount) => mount.target));
  return [
    'import json, os',
    `_targets = json.loads(${JSON.stringify(targets)})`,
    'print(json.dumps({t: [os.access(t, os.R_OK | os.X_OK), os.access(t, os.W_OK | os.X_OK)] for t in _targets}))',
  ].join('\n');
}

/** One doctor line per host folder, ✗ when the sandbox cannot use it as configured. */
export function mountAccessLines(
  mounts: readonly CheckedHostMount[],
  stdout: string,
  uid: number,
): string[] {
  let seen: Record<string, [boolean, boolean] | undefined> = {};
  try {
    seen = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as typeof seen;
  } catch {
    // Reported below as unknown access.
  }
  return mounts.map((mount) => {
    const access = seen[mount.target];
    const where = `mount ${mount.target} (${mount.source})`;
    if (!access) return `✗ ${where}: the sandbox could not report its access`;
    const [readable, writable] = access;
    if (!readable)
      return `✗ ${where}: the sandbox's user (uid ${uid}) cannot read it; make it readable to others (chmod o+rx) or see README, "Files in"`;
    if (mount.writable && !writable)
      return `✗ ${where}: rw, but the sandbox's user (uid ${uid}) cannot write to it; README, "Files in", says how to let it`;
    return `✓ ${where}: ${mount.writable ? 'readable and writable' : 'readable'} by the sandbox (uid ${uid})`;
  });
}
