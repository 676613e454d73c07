import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';

export interface OwnedPodmanService {
  dockerHost: string;
  /** Ends the service and removes its socket folder; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `podman system service` on a private socket, for machines where Podman is
 * installed but no API service is listening (the usual state without systemd).
 */
export function startPodmanService(podmanPath: string, logger: Logger): OwnedPodmanService {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-podman-'));
  const socketPath = path.join(folder, 'podman.sock');
  const child = spawn(podmanPath, ['system', 'service', '--time=0', `unix://${socketPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) =>
    logger.debug({ podman: text.trim() }, 'podman service'),
  );
  child.on('error', (error) => logger.warn({ err: error }, 'podman system service failed'));
  logger.info({ socketPath, pid: child.pid }, 'started podman system service');

  let stopped: Promise<void> | undefined;
  return {
    dockerHost: `unix://${socketPath}`,
    stop: () =>
      (stopped ??= stopChild(child).finally(() =>
        rmSync(folder, { recursive: true, force: true }),
      )),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  timer.unref();
  await exited;
  clearTimeout(timer);
}
