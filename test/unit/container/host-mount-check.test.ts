import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostMountSpec } from '../../../src/config/host-mounts.js';
import {
  checkHostMounts,
  hostFolderMounts,
  protectedHostPlaces,
  realpathLoose,
  type HostMountContext,
} from '../../../src/container/host-mount-check.js';
import { ConfigError } from '../../../src/errors.js';

// Temp folders only (no processes): a fake home with a state dir, data and links.
const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'host-mount-check-')));
const home = path.join(root, 'home');
const stateDir = path.join(home, 'MCPs');
const data = path.join(home, 'data');
const engineDir = path.join(root, 'engine');
const socket = path.join(engineDir, 'docker.sock');
for (const dir of [path.join(stateDir, 'tools'), data, path.join(data, 'sub'), engineDir])
  mkdirSync(dir, { recursive: true });
writeFileSync(socket, '');
writeFileSync(path.join(data, 'file.csv'), 'a,b\n');
symlinkSync(data, path.join(home, 'data-link'));
symlinkSync('/etc', path.join(home, 'etc-link'));
symlinkSync(stateDir, path.join(home, 'state-link'));
symlinkSync(home, path.join(root, 'home-link'));
symlinkSync(path.join(root, 'nowhere'), path.join(home, 'dangling'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

const context: HostMountContext = {
  stateDir,
  protectedPlaces: protectedHostPlaces({
    engineSocket: socket,
    candidates: ['/run/podman/podman.sock', '/var/run/docker.sock'],
    home,
    tmpdir: path.join(root, 'tmp'),
  }),
};

const spec = (source: string, target = '/workspace/data', writable = false): HostMountSpec => ({
  source,
  target,
  writable,
});

function refusal(specs: HostMountSpec[]): string {
  try {
    checkHostMounts(specs, context);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('checkHostMounts', () => {
  it('accepts a folder of data, and hands the engine its real path', () => {
    expect(
      checkHostMounts([spec(path.join(home, 'data-link'), '/workspace/d', true)], context),
    ).toEqual([
      { source: data, given: path.join(home, 'data-link'), target: '/workspace/d', writable: true },
    ]);
  });

  const refusals: [string, () => HostMountSpec[], RegExp][] = [
    ['a missing folder', () => [spec(path.join(home, 'missing'))], /does not exist/],
    ['a dangling link', () => [spec(path.join(home, 'dangling'))], /does not exist/],
    ['a file', () => [spec(path.join(data, 'file.csv'))], /not a folder/],
    ['the root folder', () => [spec('/')], /is the root folder/],
    ['/etc', () => [spec('/etc')], /is in \/etc/],
    ['a folder in /etc', () => [spec('/etc/ssl')], /is in \/etc/],
    ['/proc', () => [spec('/proc')], /is in \/proc/],
    ['/sys', () => [spec('/sys')], /is in \/sys/],
    ['/dev', () => [spec('/dev')], /is in \/dev/],
    ['/run', () => [spec('/run')], /is in \/run/],
    ['/var (holding /var/run)', () => [spec('/var')], /contains \/var\/run/],
    [
      '/var/lib (holding the engines’ storage)',
      () => [spec('/var/lib')],
      /contains \/var\/lib\/docker/,
    ],
    ['/var/run (a link to /run)', () => [spec('/var/run')], /is in \/run|is in \/var\/run/],
    ['a link to /etc', () => [spec(path.join(home, 'etc-link'))], /is in \/etc.*resolves to \/etc/],
    ['the state dir', () => [spec(stateDir)], /is in the state dir/],
    ['a folder in the state dir', () => [spec(path.join(stateDir, 'tools'))], /state dir/],
    ['a link to the state dir', () => [spec(path.join(home, 'state-link'))], /is in the state dir/],
    ['a folder containing the state dir', () => [spec(home)], /contains the state dir/],
    [
      'a link to a folder containing the state dir',
      () => [spec(path.join(root, 'home-link'))],
      /contains the state dir/,
    ],
    [
      'a folder containing the engine socket',
      () => [spec(engineDir)],
      /contains the engine socket/,
    ],
    ['the folder of the temp dir’s parent', () => [spec(root)], /contains/],
    [
      'the same folder twice through a link',
      () => [spec(data, '/workspace/a'), spec(path.join(home, 'data-link'), '/workspace/b')],
      /already mounted at \/workspace\/a/,
    ],
  ];
  it.each(refusals)('refuses %s, naming the variable', (_what, specs, why) => {
    const message = refusal(specs());
    expect(message).toMatch(/^Invalid environment: MCP_BRIDGE_MOUNTS mount /);
    expect(message).toMatch(why);
  });

  it('protects a state dir that does not exist yet', () => {
    expect(realpathLoose(path.join(home, 'data-link', 'later', 'x'))).toBe(
      path.join(data, 'later', 'x'),
    );
    const later: HostMountContext = { ...context, stateDir: path.join(data, 'sub', 'state') };
    expect(() => checkHostMounts([spec(data)], later)).toThrow(/contains the state dir/);
  });

  it('protects the well-known engine sockets, rootless storage and the temp dir', () => {
    const places = context.protectedPlaces.map((place) => place.path);
    expect(places).toEqual(
      expect.arrayContaining([
        socket,
        '/run/podman/podman.sock',
        '/var/run/docker.sock',
        path.join(root, 'tmp'),
        path.join(home, '.local/share/containers'),
      ]),
    );
  });
});

describe('hostFolderMounts', () => {
  it('makes binds, read-only unless rw, marked as host folders', () => {
    const checked = checkHostMounts([spec(data, '/workspace/d')], context);
    expect(hostFolderMounts(checked)).toEqual([
      {
        name: `MCP_BRIDGE_MOUNTS ${data}`,
        mount: { Type: 'bind', Source: data, Target: '/workspace/d', ReadOnly: true },
        writable: false,
        hostFolder: true,
      },
    ]);
  });
});
