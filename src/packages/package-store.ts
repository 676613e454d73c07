import type Dockerode from 'dockerode';
import { errorMessage } from '../errors.js';
import type { EngineKind } from '../container/engine-candidates.js';
import type { SandboxMount } from '../container/hardening.js';
import { LABELS } from '../container/labels.js';

/**
 * The package store (docs/packages.md): a named engine volume, read-write in the
 * installer container and read-only in the sandbox, both at PACKAGES_MOUNT. A named
 * volume behaves the same on Linux, Docker Desktop and a Podman machine (a host folder
 * would need file sharing set up there) and outlives the bridge. Inside it, packages
 * live in `<mount>/<sys.implementation.cache_tag>` (e.g. /packages/cpython-311).
 */
export const PACKAGES_MOUNT = '/packages';

/** The labels on the store volume: managed by us, and what it is for. */
export function storeVolumeLabels(): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.role]: 'package-store' };
}

/**
 * Podman gives a new volume to the user of the first container that mounts it (it chowns
 * the volume's root). The sandbox (uid 65534) mounts the store first, after which the
 * installer (uid 0 without CAP_DAC_OVERRIDE) could not write it (measured, Podman 4.3).
 * A volume created with explicit `uid=0,gid=0` is never chowned. Docker never chowns and
 * refuses these options on its local driver without a device.
 */
export function storeVolumeDriverOptions(engine: EngineKind): Record<string, string> {
  return engine === 'podman' ? { o: 'uid=0,gid=0' } : {};
}

/**
 * Creates the volume if it does not exist (both engines answer an existing name with the
 * existing volume). Throws with the engine's reason otherwise.
 */
export async function ensurePackageVolume(
  docker: Dockerode,
  name: string,
  engine: EngineKind,
): Promise<void> {
  try {
    await docker.getVolume(name).inspect();
    return;
  } catch (error: unknown) {
    if (!/404|no such volume|not found/i.test(errorMessage(error))) throw error;
  }
  try {
    await docker.createVolume({
      Name: name,
      Labels: storeVolumeLabels(),
      DriverOpts: storeVolumeDriverOptions(engine),
    });
  } catch (error: unknown) {
    // Another bridge created it between our inspect and create.
    if (!/already exists|409/i.test(errorMessage(error))) throw error;
  }
}

/** The sandbox's view of the store: the volume, read-only. */
export function sandboxStoreMount(volume: string): SandboxMount {
  const mount = {
    Type: 'volume',
    Source: volume,
    Target: PACKAGES_MOUNT,
    ReadOnly: true,
    // Docker copies image content at the mount point into an empty volume; never wanted.
    VolumeOptions: { NoCopy: true },
  } as Dockerode.MountSettings;
  return { name: 'the package store', mount };
}
