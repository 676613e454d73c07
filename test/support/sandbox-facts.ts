import type { MountFact, SandboxFacts } from '../../src/channel/frames.js';
import { hardeningDefaults } from '../../src/container/hardening.js';

const MiB = 1024 * 1024;

/**
 * What a sandbox confined as the defaults ask (512 MiB, 128 pids, uid/gid 65534) reports
 * about itself, with `mounts` as given: the facts verifyHardening accepts.
 */
export function confinedFacts(
  mounts: MountFact[],
  overrides: Partial<SandboxFacts> = {},
): SandboxFacts {
  const { nproc, nofile } = hardeningDefaults();
  return {
    uid: 65534,
    gid: 65534,
    groups: [65534],
    uids: [65534, 65534, 65534],
    gids: [65534, 65534, 65534],
    capEff: '0000000000000000',
    capPrm: '0000000000000000',
    capBnd: '0000000000000000',
    capAmb: '0000000000000000',
    capInh: '0000000000000000',
    noNewPrivs: 1,
    seccomp: 2,
    mounts,
    memoryLimitBytes: 512 * MiB,
    memorySwapLimitBytes: 512 * MiB,
    pidsLimit: 128,
    memTotalBytes: 24 * 1024 * MiB,
    shmSizeBytes: 8 * MiB,
    kernel: { release: '6.1.0-13-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1' },
    netInterfaces: ['lo'],
    cwd: '/workspace',
    home: '/workspace',
    rlimitNproc: nproc,
    rlimitNofile: nofile,
    rlimitCore: [0, 0],
    rlimitMsgqueue: [0, 0],
    errors: [],
    ...overrides,
  };
}
