import os from 'node:os';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LABELS, ownerLabels } from '../../../src/container/labels.js';
import { removeOwnSandboxes } from '../../../src/container/leftovers.js';

/** A Docker client that answers listContainers from the labels it is asked to match. */
function fakeDocker(containers: { Id: string; Labels: Record<string, string> }[]) {
  const removed: string[] = [];
  const docker = {
    listContainers: ({ filters }: { filters: { label: string[] } }) =>
      Promise.resolve(
        containers.filter((container) =>
          filters.label.every((wanted) => {
            const [key, value] = wanted.split('=');
            return container.Labels[key ?? ''] === value;
          }),
        ),
      ),
    getContainer: (id: string) => ({
      remove: () => {
        removed.push(id);
        return Promise.resolve();
      },
    }),
  } as unknown as Dockerode;
  return { docker, removed };
}

describe('removeOwnSandboxes', () => {
  const logger = pino({ level: 'silent' });
  const containers = [
    { Id: 'left', Labels: ownerLabels('sandbox', 'left') },
    { Id: 'right', Labels: ownerLabels('sandbox', 'right') },
    { Id: 'installer', Labels: ownerLabels('installer') },
    {
      Id: 'other-bridge',
      Labels: { ...ownerLabels('sandbox', 'left'), [LABELS.ownerPid]: '1' },
    },
  ];

  it("with a session: only that session's sandboxes of this bridge", async () => {
    const { docker, removed } = fakeDocker(containers);
    expect(await removeOwnSandboxes(docker, logger, 'left')).toBe(true);
    expect(removed).toEqual(['left']);
  });

  it('without one (the bridge closing): every sandbox of this bridge, nothing else', async () => {
    const { docker, removed } = fakeDocker(containers);
    await removeOwnSandboxes(docker, logger);
    expect(removed).toEqual(['left', 'right']);
  });

  it('labels a sandbox with its session, and only when it has one', () => {
    expect(ownerLabels('sandbox', 'a.b')[LABELS.session]).toBe('a.b');
    expect(LABELS.session in ownerLabels('installer')).toBe(false);
    expect(ownerLabels('sandbox')[LABELS.ownerHost]).toBe(os.hostname());
  });
});
