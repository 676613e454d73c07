import os from 'node:os';
import type Dockerode from 'dockerode';
import type { Logger } from '../logger.js';
import { processIsAlive } from '../util/process-alive.js';
import { LABELS } from './labels.js';

/**
 * Removes containers left by bridges on this host whose process is gone (crashed,
 * SIGKILLed). Containers of live bridges, and of other hosts sharing a remote engine,
 * are left alone.
 */
export async function removeLeftoverContainers(
  docker: Dockerode,
  logger: Logger,
  isAlive: (pid: number) => boolean = processIsAlive,
): Promise<number> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`] },
  });
  let removed = 0;
  for (const info of containers) {
    const labels = info.Labels ?? {};
    const pid = Number(labels[LABELS.ownerPid]);
    if (labels[LABELS.ownerHost] !== os.hostname() || !Number.isInteger(pid)) continue;
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true });
      removed += 1;
      logger.info({ container: info.Id.slice(0, 12), ownerPid: pid }, 'removed leftover sandbox');
    } catch (error: unknown) {
      logger.debug({ err: error, container: info.Id.slice(0, 12) }, 'leftover already gone');
    }
  }
  return removed;
}

/**
 * Removes this bridge's own sandbox containers: called when none of them should exist (no
 * sandbox is live). A sandbox whose engine went away as it died could not be removed
 * then; this catches it once the engine is back. False if the engine could not be asked.
 * `session`: only that named session's sandboxes (another session's live sandbox of this
 * bridge is left alone); undefined: all of this bridge's (when it closes).
 */
export async function removeOwnSandboxes(
  docker: Dockerode,
  logger: Logger,
  session?: string,
): Promise<boolean> {
  let containers: Dockerode.ContainerInfo[];
  try {
    containers = await docker.listContainers({
      all: true,
      filters: {
        label: [
          `${LABELS.ownerHost}=${os.hostname()}`,
          `${LABELS.ownerPid}=${process.pid}`,
          `${LABELS.role}=sandbox`,
          ...(session === undefined ? [] : [`${LABELS.session}=${session}`]),
        ],
      },
    });
  } catch (error: unknown) {
    logger.debug({ err: String(error) }, 'could not list our own stale sandboxes');
    return false;
  }
  for (const info of containers) {
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true });
      logger.info({ container: info.Id.slice(0, 12) }, 'removed a stale sandbox of ours');
    } catch (error: unknown) {
      logger.debug({ err: String(error), container: info.Id.slice(0, 12) }, 'already gone');
    }
  }
  return true;
}
