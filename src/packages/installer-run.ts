import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import { attachHijacked } from '../container/attach.js';
import { StreamDemuxer } from '../container/stream-demux.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Running one installer container (installer-container.ts builds it) to its end, and
 * reading what its driver reported: the result line and the tail of pip's output.
 */

/** The driver's last stdout line starts with this (sandbox/mcp_installer/driver.py). */
export const RESULT_MARKER = '__mcp_bridge_install__ ';
const OUTPUT_TAIL_CHARS = 64 * 1024;

const driverResultSchema = z.object({
  ok: z.boolean(),
  error: z.string().optional(),
  installed: z.array(z.object({ name: z.string(), version: z.string() })).optional(),
  alreadySatisfied: z.boolean().optional(),
  requested: z.object({ name: z.string(), version: z.string().nullable() }).nullish(),
  storeBytes: z.number().optional(),
  addedBytes: z.number().optional(),
  seconds: z.number().optional(),
  /** Set when the store's root folder is not uid 0's (see buildStoreRepairCreateOptions). */
  storeOwner: z.number().int().optional(),
});
export type DriverResult = z.infer<typeof driverResultSchema>;

/** How one installer container ended. */
export interface InstallerRun {
  outcome: 'finished' | 'timeout' | 'aborted' | 'failed-to-start';
  exitCode: number | undefined;
  /** The driver's result line, when it got that far. */
  result: DriverResult | undefined;
  /** The tail of pip's and the driver's output (stdout and stderr, interleaved). */
  output: string;
  /** Why the container could not run (outcome failed-to-start). */
  error: string | undefined;
  durationMs: number;
}

/** The last result line in `output`, if it parses. */
export function parseDriverResult(output: string): DriverResult | undefined {
  const start = output.lastIndexOf(`\n${RESULT_MARKER}`);
  if (start < 0) return undefined;
  const line = output.slice(start + 1 + RESULT_MARKER.length).split('\n', 1)[0] ?? '';
  try {
    const parsed = driverResultSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The lines of pip's output worth showing: its errors, else the last few lines. */
export function summarizeOutput(output: string, maxChars = 1500): string {
  const lines = output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !line.startsWith(RESULT_MARKER));
  const errors = lines.filter((line) => /^(ERROR|error):/.test(line.trim()));
  const chosen = errors.length > 0 ? errors : lines.slice(-8);
  const text = chosen.join('\n');
  return text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
}

/**
 * Runs one installer container to its end: attach before start (nothing missed; the
 * query-string attach that works on Podman 4.3), output kept as a bounded tail, killed
 * at `timeoutMs` or when `signal` aborts, always removed.
 */
export async function runInstallerContainer(
  docker: Dockerode,
  createOptions: Dockerode.ContainerCreateOptions,
  options: { timeoutMs: number; signal?: AbortSignal | undefined; logger: Logger },
): Promise<InstallerRun> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let output = '';
  const append = (text: string) => {
    output = (output + text).slice(-OUTPUT_TAIL_CHARS);
  };
  const ending = (outcome: InstallerRun['outcome'], fields: Partial<InstallerRun> = {}) => ({
    outcome,
    exitCode: undefined,
    result: undefined,
    output,
    error: undefined,
    durationMs: elapsed(),
    ...fields,
  });
  // The time limit and the caller's abort, armed for the whole run and always disarmed.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  let abortListener: () => void = () => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    abortListener = () => resolve('aborted');
  });
  if (options.signal?.aborted) abortListener();
  else options.signal?.addEventListener('abort', abortListener, { once: true });
  const limits = [timedOut, aborted] as const;

  let container: Dockerode.Container | undefined;
  let socket: Duplex | undefined;
  try {
    container = await docker.createContainer(createOptions);
    socket = await attachHijacked(docker, container.id);
    const demuxer = new StreamDemuxer((_stream, payload) => append(payload.toString('utf8')));
    const open = socket;
    open.on('data', (chunk: Buffer) => demuxer.push(chunk));
    const ended = new Promise<'finished'>((resolve) => {
      open.once('end', () => resolve('finished'));
      open.once('close', () => resolve('finished'));
      open.once('error', () => resolve('finished'));
    });
    await container.start();
    const outcome = await Promise.race([ended, ...limits]);
    if (outcome !== 'finished') return ending(outcome);
    // The output ended; the exit status follows (bounded too: the stream may have ended
    // because the connection to the engine did).
    const running = container;
    const exit = await Promise.race([
      running.wait().then((status: { StatusCode?: number }) => status),
      ...limits,
    ]);
    if (typeof exit === 'string') return ending(exit);
    return ending('finished', { exitCode: exit.StatusCode, result: parseDriverResult(output) });
  } catch (error: unknown) {
    return ending('failed-to-start', { error: errorMessage(error) });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abortListener);
    // Remove first, then drop the connection (see SandboxContainer.destroy).
    if (container) {
      await container.remove({ force: true }).catch((error: unknown) => {
        if (!/no such container|404/i.test(errorMessage(error))) {
          options.logger.warn({ err: errorMessage(error) }, 'could not remove installer container');
        }
      });
    }
    socket?.destroy();
  }
}
