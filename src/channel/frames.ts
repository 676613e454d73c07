import { z } from 'zod';

/**
 * Frame schemas for the sandbox channel (docs/protocol.md). Every frame from the sandbox
 * is untrusted: it is parsed with these schemas, and anything that does not fit is dropped.
 */

const executionId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const mountFactSchema = z.object({
  target: z.string().max(4096),
  fstype: z.string().max(256),
  options: z.array(z.string().max(4096)).max(256),
});
export type MountFact = z.infer<typeof mountFactSchema>;

export const sandboxFactsSchema = z.object({
  uid: z.number().int(),
  gid: z.number().int(),
  groups: z.array(z.number().int()).max(1024),
  /** Real, effective and saved ids (os.getresuid/getresgid): all must be the asked-for one. */
  uids: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  gids: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  capEff: z.string().max(32),
  capPrm: z.string().max(32),
  capBnd: z.string().max(32),
  /** null: the kernel prints no ambient set (gVisor has none). */
  capAmb: z.string().max(32).nullable(),
  capInh: z.string().max(32),
  noNewPrivs: z.number().int(),
  seccomp: z.number().int(),
  mounts: z.array(mountFactSchema).max(1024),
  memoryLimitBytes: count.nullable(),
  memorySwapLimitBytes: count.nullable(),
  pidsLimit: count.nullable(),
  /** /proc/meminfo MemTotal: under gVisor, the memory its kernel was given. */
  memTotalBytes: count.nullable(),
  /** statvfs size of /dev/shm: gVisor shows it only so. */
  shmSizeBytes: count.nullable(),
  /** uname release and version: the host's kernel under runc, gVisor's under runsc. */
  kernel: z.object({ release: z.string().max(256), version: z.string().max(256) }).nullable(),
  netInterfaces: z.array(z.string().max(64)).max(256),
  cwd: z.string().max(4096),
  home: z.string().max(4096).nullable(),
  rlimitNproc: z.number().int().nullable(),
  rlimitNofile: z.number().int().nullable(),
  /** RLIMIT_CORE as [soft, hard], raw (-1 = unlimited); null when unreadable. */
  rlimitCore: z.tuple([z.number().int(), z.number().int()]).nullable(),
  /** RLIMIT_MSGQUEUE as [soft, hard], raw (-1 = unlimited); null when unreadable. */
  rlimitMsgqueue: z.tuple([z.number().int(), z.number().int()]).nullable(),
  errors: z.array(z.string().max(4096)).max(256),
});
export type SandboxFacts = z.infer<typeof sandboxFactsSchema>;

export const readyFrameSchema = z.object({
  type: z.literal('ready'),
  nonce: z.string().max(128),
  python: z.string().max(64),
  pid: z.number().int(),
  facts: sandboxFactsSchema,
});

export const outputFrameSchema = z.object({
  type: z.enum(['stdout', 'stderr']),
  id: executionId,
  data: z.string(),
});

/** The steps of a cell the runner times when asked (docs/protocol.md, `done`). */
export const RUNNER_STAGES = ['wait', 'prepare', 'compile', 'exec', 'finish', 'capture'] as const;
export type RunnerStage = (typeof RUNNER_STAGES)[number];

/** The per-cell secret an `execute` frame carries and its `done` frame echoes. */
const doneToken = z.string().max(128);

export const doneFrameSchema = z.object({
  type: z.literal('done'),
  id: executionId,
  token: doneToken,
  exitCode: z.number().int().min(-255).max(255),
  outcome: z.enum(['completed', 'exception', 'interrupted']),
  dropped: z.object({ stdout: count, stderr: count }),
  durationMs: z.number().nonnegative(),
  /**
   * Only when the boot frame asked for it (MCP_BRIDGE_TIMING): ms per step of the cell,
   * by the runner's clock; logged, never acted on.
   */
  timing: z
    .object(
      Object.fromEntries(
        RUNNER_STAGES.map((stage) => [stage, z.number().nonnegative().max(3_600_000)]),
      ) as Record<RunnerStage, z.ZodNumber>,
    )
    .partial()
    .optional(),
});

/**
 * An image of a cell (docs/protocol.md, "Images"): base64 in a JSON line, so binary data
 * never takes the stdout text path. Only the shape is checked here; what may be kept of
 * it (count, size, alphabet, kind) is decided per cell (src/session/display-collector.ts)
 * before anything is decoded.
 */
export const imageFrameSchema = z.object({
  type: z.literal('image'),
  id: executionId,
  mimeType: z.string().max(128),
  data: z.string(),
});

/** A file the cell wrote under /workspace/out (docs/protocol.md, "Files out"). */
export const artifactFrameSchema = z.object({
  type: z.literal('artifact'),
  id: executionId,
  path: z.string().max(1024),
  mimeType: z.string().max(128),
  data: z.string(),
});

/** What the sandbox dropped or shrank of a cell's images, said to the agent. */
export const noticeFrameSchema = z.object({
  type: z.literal('notice'),
  id: executionId,
  message: z.string().max(16_384),
});

export const exitedFrameSchema = z.object({
  type: z.literal('exited'),
  nonce: z.string().max(128),
  exitCode: z.number().int().nullable(),
  signal: z.number().int().nullable(),
  oomKilled: z.boolean(),
  memoryLimitBytes: count.nullable(),
});

export const rpcRequestFrameSchema = z.object({
  type: z.literal('rpc_request'),
  id: executionId,
  execId: executionId,
  payload: z.record(z.string(), z.unknown()),
});

export const logFrameSchema = z.object({
  type: z.literal('log'),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string().max(16_384),
});

/** Longest `message` a `progress` frame may carry; the bridge shows at most 200 characters. */
export const MAX_PROGRESS_FRAME_MESSAGE_CHARS = 4096;

/**
 * `runtime.progress(done, total, message)` of the running cell (docs/protocol.md). Numbers
 * must be finite: JSON.parse turns `1e999` into Infinity, which z.number() refuses.
 */
export const progressFrameSchema = z.object({
  type: z.literal('progress'),
  id: executionId,
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().max(MAX_PROGRESS_FRAME_MESSAGE_CHARS).optional(),
});

export const sandboxFrameSchema = z.discriminatedUnion('type', [
  readyFrameSchema,
  outputFrameSchema,
  doneFrameSchema,
  exitedFrameSchema,
  rpcRequestFrameSchema,
  logFrameSchema,
  progressFrameSchema,
  imageFrameSchema,
  noticeFrameSchema,
  artifactFrameSchema,
]);
export type SandboxFrame = z.infer<typeof sandboxFrameSchema>;
export type ReadyFrame = z.infer<typeof readyFrameSchema>;
export type DoneFrame = z.infer<typeof doneFrameSchema>;
export type ExitedFrame = z.infer<typeof exitedFrameSchema>;
export type RpcRequestFrame = z.infer<typeof rpcRequestFrameSchema>;
export type LogFrame = z.infer<typeof logFrameSchema>;
export type ProgressFrame = z.infer<typeof progressFrameSchema>;
export type ImageFrame = z.infer<typeof imageFrameSchema>;
export type ArtifactFrame = z.infer<typeof artifactFrameSchema>;

/** A cell's image limits, sent in its `execute` frame (the host checks them again). */
export interface DisplayLimits {
  maxImages: number;
  maxImageBytes: number;
  /** Decoded bytes of all the cell's images together. */
  maxTotalBytes: number;
  /** Files returned from /workspace/out per call (0: the folder is not looked at). */
  maxFiles?: number;
  maxFileBytes?: number;
}

/** Host → sandbox frames. Built by us, so plain types suffice. */
export interface SandboxModule {
  source: string;
  package: boolean;
}

/** A server loaded for one call, as the runner needs it to build `mcp_<alias>` proxies. */
export interface ExecuteServer {
  name: string;
  alias: string;
  description?: string | undefined;
  cwd?: string | undefined;
  tools: { name: string; alias: string; description?: string | undefined; inputSchema: unknown }[];
}

export type HostFrame =
  | {
      type: 'boot';
      nonce: string;
      modules: Record<string, SandboxModule>;
      entry: string;
      /** The socket lane on offer (src/channel/socket-lane.ts); absent: stdin/stdout only. */
      lane?: { path: string; token: string };
      /** MCP_BRIDGE_TIMING: put the cell's step times in each `done` frame. */
      timing?: true;
    }
  | {
      type: 'execute';
      id: number;
      /**
       * A fresh secret per cell that the runner echoes in `done`: a `done` frame forged by
       * user code, which cannot see it, does not end the call (docs/protocol.md).
       */
      doneToken: string;
      code: string;
      maxOutputChars: number;
      servers?: ExecuteServer[];
      /** Absent: the cell's images are not wanted (the bridge's own cells). */
      display?: DisplayLimits;
    }
  | { type: 'interrupt'; id: number }
  | { type: 'rpc_response'; id: number; success: true; payload: Record<string, unknown> }
  | { type: 'rpc_response'; id: number; success: false; error: string };
