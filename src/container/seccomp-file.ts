import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SandboxStartError, errorMessage } from '../errors.js';
import { buildSeccompProfile, seccompProfileJson, type SeccompProfile } from './seccomp-profile.js';

/**
 * Writes our seccomp profile into `dir` for engines that only take a path (Podman's
 * compat API) and returns the file's absolute path. The name carries the content's hash:
 * a file with the right content is reused, a changed profile gets a new name. The file
 * must be readable by the engine's service; for a Podman machine VM that means a folder
 * shared with the VM (the home directory is, by default). Synchronous: it runs once per
 * engine connection, from code that builds create options synchronously.
 */
export function writeSeccompProfileFile(
  dir: string,
  profile: SeccompProfile = buildSeccompProfile(),
): string {
  const json = seccompProfileJson(profile);
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const target = path.resolve(dir, `seccomp-${digest}.json`);
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // Security: only we may write here; whoever can rewrite the profile can loosen the sandbox.
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    if (readIfExists(target) === json) return target;
    writeFileSync(temporary, json, { mode: 0o644, flag: 'wx' });
    chmodSync(temporary, 0o644);
    renameSync(temporary, target);
    return target;
  } catch (error: unknown) {
    // E.g. a full disk: no half-written temp file is left to pile up at every retry.
    rmSync(temporary, { force: true });
    throw new SandboxStartError(
      `Could not write the seccomp profile Podman needs to ${target}: ${errorMessage(error)}. ` +
        "Podman's API takes the profile only as a file, kept under MCP_BRIDGE_STATE_DIR: free space there, or point MCP_BRIDGE_STATE_DIR at a writable folder with room.",
      { cause: error },
    );
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
