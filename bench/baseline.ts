import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { attachHijacked } from '../src/container/attach.js';
import { StreamDemuxer } from '../src/container/stream-demux.js';

const execFileAsync = promisify(execFile);

/** One per-call container's wall time and where it went, in ms. */
export interface PerCallSample {
  totalMs: number;
  createMs: number;
  /** Attach (Podman runs `runc create` here) and start. */
  attachStartMs: number;
  /** From start to the exit status (or, without waiting, to the end of the output). */
  runMs: number;
  removeMs: number;
  stdout: string;
  /** Undefined when the variant does not wait for the exit status. */
  exitCode: number | undefined;
}

/**
 * How a per-call run learns that the code finished:
 * - `wait`: the exit status from the engine's wait endpoint, as a real bridge needs it
 *   (what the original bridge did). Podman 4.3 answers it only once its cleanup process
 *   has run, 100–450 ms after the output ended (measured).
 * - `stream-end`: the end of the attached output, then a forced remove; no exit status.
 *   A lower bound for any per-call container driven through the API.
 */
export type PerCallVariant = 'wait' | 'stream-end';

/**
 * What the original bridge did for every call: create a hardened container, attach, start,
 * wait for exit, read the output, remove it; all through the engine API.
 */
export async function perCallContainer(
  docker: Dockerode,
  options: Dockerode.ContainerCreateOptions,
  variant: PerCallVariant,
): Promise<PerCallSample> {
  const t0 = performance.now();
  const container = await docker.createContainer(options);
  const t1 = performance.now();
  let t2 = t1;
  let t3 = t1;
  let stdout = '';
  let exitCode: number | undefined;
  try {
    const socket = await attachHijacked(docker, container.id);
    const demuxer = new StreamDemuxer((stream, payload) => {
      if (stream === 'stdout') stdout += payload.toString('utf8');
    });
    socket.on('data', (chunk: Buffer) => demuxer.push(chunk));
    const ended = new Promise<void>((resolve) => {
      socket.once('end', resolve);
      socket.once('close', resolve);
    });
    // Never hang on a stream that does not end; the output check would then fail.
    let timer: NodeJS.Timeout | undefined;
    const endedOrLate = Promise.race([
      ended,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000))),
    ]).finally(() => clearTimeout(timer));
    await container.start();
    t2 = performance.now();
    if (variant === 'wait') {
      const waited = (await container.wait()) as { StatusCode: number };
      exitCode = waited.StatusCode;
    }
    await endedOrLate;
    socket.destroy();
    t3 = performance.now();
  } finally {
    await container.remove({ force: true });
  }
  const t4 = performance.now();
  return {
    totalMs: t4 - t0,
    createMs: t1 - t0,
    attachStartMs: t2 - t1,
    runMs: t3 - t2,
    removeMs: t4 - t3,
    stdout,
    exitCode,
  };
}

/**
 * The same create options as `podman run` flags, so the CLI baseline uses exactly the
 * hardening the API baseline does. Throws on an option it does not know how to spell:
 * a silently dropped flag would make the CLI figure flatter than the real thing.
 */
export function podmanRunArgs(options: Dockerode.ContainerCreateOptions): string[] {
  const host = options.HostConfig ?? {};
  const args = ['run', '--rm'];
  const known = new Set([
    'NetworkMode',
    'ReadonlyRootfs',
    'CapDrop',
    'SecurityOpt',
    'Memory',
    'MemorySwap',
    'PidsLimit',
    'Tmpfs',
    'ShmSize',
    'Ulimits',
    'LogConfig',
    'Init',
    'IpcMode',
    'NanoCpus',
    'Mounts',
  ]);
  const unknown = Object.keys(host).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`podmanRunArgs: no CLI spelling for ${unknown.join()}`);
  if (host.NetworkMode) args.push(`--network=${host.NetworkMode}`);
  if (host.ReadonlyRootfs) args.push('--read-only');
  for (const cap of host.CapDrop ?? []) args.push(`--cap-drop=${cap}`);
  for (const opt of host.SecurityOpt ?? []) args.push(`--security-opt=${opt}`);
  if (host.Memory !== undefined) args.push(`--memory=${host.Memory}b`);
  if (host.MemorySwap !== undefined) args.push(`--memory-swap=${host.MemorySwap}b`);
  if (host.PidsLimit !== undefined && host.PidsLimit !== null) {
    args.push(`--pids-limit=${host.PidsLimit}`);
  }
  for (const [target, mountOptions] of Object.entries(host.Tmpfs ?? {})) {
    args.push(`--tmpfs=${target}:${mountOptions}`);
  }
  if (host.ShmSize !== undefined) args.push(`--shm-size=${host.ShmSize}b`);
  for (const limit of host.Ulimits ?? []) {
    args.push(`--ulimit=${limit.Name}=${limit.Soft}:${limit.Hard}`);
  }
  if (host.LogConfig?.Type) args.push(`--log-driver=${host.LogConfig.Type}`);
  if (host.Init) args.push('--init');
  if (host.IpcMode) args.push(`--ipc=${host.IpcMode}`);
  if (host.NanoCpus !== undefined) args.push(`--cpus=${host.NanoCpus / 1e9}`);
  for (const mount of host.Mounts ?? []) {
    const spelled = [`type=${mount.Type}`, `source=${mount.Source}`, `target=${mount.Target}`];
    if (mount.ReadOnly) spelled.push('readonly');
    args.push(`--mount=${spelled.join(',')}`);
  }
  if (options.User) args.push(`--user=${options.User}`);
  if (options.WorkingDir) args.push(`--workdir=${options.WorkingDir}`);
  for (const variable of options.Env ?? []) args.push(`--env=${variable}`);
  if (Array.isArray(options.Entrypoint)) args.push(`--entrypoint=${options.Entrypoint.join(' ')}`);
  for (const [key, value] of Object.entries(options.Labels ?? {})) {
    args.push(`--label=${key}=${value}`);
  }
  if (!options.Image) throw new Error('podmanRunArgs: no image');
  args.push(options.Image);
  const command = options.Cmd;
  if (Array.isArray(command)) args.push(...command);
  else if (command) args.push(command);
  return args;
}

/** Wall time of one `podman run --rm …` (stdin closed), and what it printed. */
export async function podmanRunOnce(
  podman: string,
  args: string[],
): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  const { stdout } = await execFileAsync(podman, args, { timeout: 60_000 });
  return { ms: performance.now() - t0, stdout };
}
