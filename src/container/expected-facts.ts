import {
  CORE_DUMP_LIMIT,
  MESSAGE_QUEUE_LIMIT,
  parseUser,
  WORKSPACE_DIR,
  type HardeningSettings,
} from './hardening.js';

export interface ExpectedTmpfs {
  target: string;
  sizeBytes: number;
  /** False: mounted read-only (/var/tmp); /run is rw but root-owned 0755. */
  readWrite: boolean;
}

/** What the sandbox should report about itself (docs/protocol.md `facts`). */
export interface ExpectedFacts {
  uid: number;
  gid: number;
  memoryLimitBytes: number;
  pidsLimit: number;
  tmpfs: ExpectedTmpfs[];
  shmSizeBytes: number;
  cwd: string;
  home: string;
  rlimitNofile: number;
  rlimitNproc: number;
  /** Soft and hard RLIMIT_CORE. */
  rlimitCore: number;
  /** Soft and hard RLIMIT_MSGQUEUE. */
  rlimitMsgqueue: number;
  netInterfaces: string[];
}

/** The facts the sandbox must report if every setting took. */
export function expectedFacts(settings: HardeningSettings): ExpectedFacts {
  const { uid, gid } = parseUser(settings.user);
  return {
    uid,
    gid,
    memoryLimitBytes: settings.memoryBytes,
    pidsLimit: settings.pidsLimit,
    tmpfs: [
      { target: '/tmp', sizeBytes: settings.tmpSizeBytes, readWrite: true },
      { target: WORKSPACE_DIR, sizeBytes: settings.workspaceSizeBytes, readWrite: true },
      { target: '/run', sizeBytes: settings.runSizeBytes, readWrite: true },
      { target: '/var/tmp', sizeBytes: settings.varTmpSizeBytes, readWrite: false },
    ],
    shmSizeBytes: settings.shmSizeBytes,
    cwd: WORKSPACE_DIR,
    home: WORKSPACE_DIR,
    rlimitNofile: settings.nofile,
    rlimitNproc: settings.nproc,
    rlimitCore: CORE_DUMP_LIMIT,
    rlimitMsgqueue: MESSAGE_QUEUE_LIMIT,
    netInterfaces: ['lo'],
  };
}
