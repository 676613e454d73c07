import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BRIDGE_BIN } from '../support/bridge-client.js';
import { testImage } from '../support/engines.js';

/**
 * MCP_BRIDGE_MOUNTS that would hand the sandbox a piece of the host it must not have
 * stops the built bridge at startup, before any engine or container is touched, with an
 * error naming the variable (and doctor refuses it the same way). Each entry here is an
 * attempt a careless or tricked configuration could make.
 */

const root = mkdtempSync(path.join(os.tmpdir(), 'host-mounts-startup-'));
const stateDir = path.join(root, 'state');
const data = path.join(root, 'data');
const engineDir = path.join(root, 'engine');
for (const dir of [stateDir, data, engineDir]) mkdirSync(dir);
chmodSync(root, 0o755);
writeFileSync(path.join(root, 'file.txt'), 'x');
writeFileSync(path.join(engineDir, 'docker.sock'), '');
symlinkSync('/etc', path.join(root, 'innocent'));
symlinkSync(stateDir, path.join(root, 'state-link'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the built bridge with `mounts`; resolves when it exits (20 s max). */
function startWith(
  mounts: string,
  command: 'run' | 'doctor' = 'run',
  extra: Record<string, string> = {},
): Promise<Finished> {
  const child = spawn(process.execPath, [BRIDGE_BIN, command], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      DOCKER_HOST: process.env.MCP_BRIDGE_TEST_PODMAN_HOST ?? 'unix:///run/podman/podman.sock',
      MCP_BRIDGE_IMAGE: testImage(),
      MCP_BRIDGE_STATE_DIR: stateDir,
      MCP_BRIDGE_MOUNTS: mounts,
      ...extra,
    },
    // stdin stays open: a bridge that accepted the setting keeps serving.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code: signal === 'SIGKILL' ? null : code, stdout, stderr });
    }),
  );
}

const refused: [string, () => string, RegExp][] = [
  ['a relative host folder', () => 'data:/workspace/data', /"data" is relative/],
  ['a missing host folder', () => `${root}/missing:/workspace/data`, /does not exist/],
  ['a file', () => `${root}/file.txt:/workspace/data`, /not a folder/],
  ['the root folder', () => '/:/workspace/host', /is the root folder/],
  ['/etc', () => '/etc:/workspace/etc', /is in \/etc/],
  ['/proc', () => '/proc:/workspace/proc', /is in \/proc/],
  ['/sys', () => '/sys:/workspace/sys', /is in \/sys/],
  ['/dev', () => '/dev:/workspace/dev', /is in \/dev/],
  ['/run', () => '/run:/workspace/run', /is in \/run/],
  ['/var/run', () => '/var/run:/workspace/run', /is in \/(var\/)?run/],
  ['a folder holding the engine socket', () => `${engineDir}:/workspace/e`, /engine socket/],
  [
    'a folder holding the engines’ storage',
    () => '/var/lib:/workspace/lib',
    /contains \/var\/lib\/docker/,
  ],
  ['a folder holding /var/run', () => '/var:/workspace/var', /contains \/var\/run/],
  ['the state dir', () => `${stateDir}:/workspace/s:rw`, /is in the state dir/],
  ['a link to the state dir', () => `${root}/state-link:/workspace/s`, /state dir/],
  ['a folder containing the state dir', () => `${root}:/workspace/all`, /contains the state dir/],
  [
    'a symlink that resolves into /etc',
    () => `${root}/innocent:/workspace/data`,
    /is in \/etc.*resolves to \/etc/,
  ],
  ['a target outside /workspace', () => `${data}:/etc/data`, /inside \/workspace/],
  ['a target on the sandbox’s /workspace/out', () => `${data}:/workspace/out`, /collides/],
  ['/workspace itself', () => `${data}:/workspace`, /inside \/workspace/],
  [
    'a duplicate target',
    () => `${data}:/workspace/d,${engineDir}/../data:/workspace/d`,
    /given twice/,
  ],
  [
    'the same folder twice through a link',
    () => `${data}:/workspace/a,${root}/./data:/workspace/b`,
    /given twice|already mounted/,
  ],
];

describe('MCP_BRIDGE_MOUNTS that reaches a refused place', () => {
  it.each(refused)('%s stops startup with its message', async (_what, mounts, why) => {
    const finished = await startWith(
      mounts(),
      'run',
      _what === 'a folder holding the engine socket'
        ? { DOCKER_HOST: `unix://${engineDir}/docker.sock` }
        : {},
    );
    expect(finished.code, `still serving after 20 s; stderr:\n${finished.stderr}`).toBe(2);
    expect(finished.stderr).toContain('MCP_BRIDGE_MOUNTS');
    expect(finished.stderr).toMatch(why);
    // Nothing was said on the MCP channel.
    expect(finished.stdout).toBe('');
  });

  it('doctor refuses it the same way', async () => {
    const finished = await startWith(`${root}/innocent:/workspace/data`, 'doctor');
    expect(finished.code, finished.stderr).toBe(1);
    expect(finished.stdout).toMatch(/✗ mounts: .*MCP_BRIDGE_MOUNTS.*is in \/etc/);
  });
});
