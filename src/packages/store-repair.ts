import type Dockerode from 'dockerode';
import { buildContainerCreateOptions } from '../container/hardening.js';
import { ownerLabels } from '../container/labels.js';
import type { InstallerHardening } from './installer-container.js';
import { PACKAGES_MOUNT } from './package-store.js';

export const STORE_REPAIR_ROLE = 'package-store-repair';

/**
 * A one-off container that gives the store's root folder back to uid 0. Needed when the
 * volume was created without `uid=0,gid=0` on Podman (by hand, or by a sandbox started
 * outside the bridge, e.g. by `doctor`): Podman then hands it to the first container's
 * user, the sandbox's, and the capability-less installer can no longer write it. The
 * only capability this container gets is CAP_CHOWN; it runs a fixed command, with no
 * network and only the store mounted.
 */
export function buildStoreRepairCreateOptions(options: {
  hardening: InstallerHardening;
  volume: string;
}): Dockerode.ContainerCreateOptions {
  const base = buildContainerCreateOptions({
    ...options.hardening,
    labels: ownerLabels(STORE_REPAIR_ROLE),
    command: [
      'python3',
      '-c',
      `import os; os.chown(${JSON.stringify(PACKAGES_MOUNT)}, 0, 0); os.chmod(${JSON.stringify(PACKAGES_MOUNT)}, 0o755)`,
    ],
  });
  return {
    ...base,
    User: '0:0',
    WorkingDir: '/tmp',
    Env: ['HOME=/tmp'],
    OpenStdin: false,
    StdinOnce: false,
    AttachStdin: false,
    HostConfig: {
      ...base.HostConfig,
      NetworkMode: 'none',
      CapAdd: ['CHOWN'],
      Mounts: [{ Type: 'volume', Source: options.volume, Target: PACKAGES_MOUNT, ReadOnly: false }],
    },
  };
}
