import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { MOUNTS_VARIABLE, type HostMountSpec } from '../config/host-mounts.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { SandboxMount } from './hardening.js';

/**
 * Host places no mount may be in (nor be): the host's configuration, kernel interfaces,
 * devices, runtime sockets and boot files. Compared after realpath, and in the spelling
 * given, so `/var/run` (a link to `/run` on most systems) is refused either way.
 */
export const REFUSED_HOST_TREES = [
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/var/run',
  '/boot',
  // The engines' own storage: images, containers, volumes (the package store among them).
  '/var/lib/docker',
  '/var/lib/containers',
] as const;

/** Places no mount may contain (a mount of a parent folder would reach them), with why. */
export interface ProtectedPlace {
  path: string;
  what: string;
}

export interface HostMountContext {
  /** MCP_BRIDGE_STATE_DIR: history, saved tools, seccomp profiles. */
  stateDir: string;
  /**
   * Engine API sockets and folders holding the bridge's own sockets (the socket lane, a
   * Podman service it starts, the package relay: all under the temp dir), engine storage.
   */
  protectedPlaces: readonly ProtectedPlace[];
}

/** A host folder checked on disk: `source` is its realpath, what the engine mounts. */
export interface CheckedHostMount extends HostMountSpec {
  /** The path as the user wrote it (after `~`), for messages and doctor. */
  given: string;
}

function refuse(spec: HostMountSpec, why: string): never {
  throw new ConfigError(
    `Invalid environment: ${MOUNTS_VARIABLE} mount ${spec.source} → ${spec.target}: ${why}. ` +
      'Give a folder of your own data instead (README, "Files in").',
  );
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

/**
 * realpath of a place that may not exist (yet): the realpath of its deepest existing
 * ancestor, plus the rest. A state dir the bridge has not created yet is still protected.
 */
export function realpathLoose(place: string): string {
  const absolute = path.resolve(place);
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(realpathSync(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

function resolveSource(spec: HostMountSpec): string {
  let real: string;
  try {
    // Security: symlinks are followed here, once, and the engine is given the result, so
    // what is checked is what is mounted.
    real = realpathSync(spec.source);
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    refuse(
      spec,
      code === 'ENOENT'
        ? 'the host folder does not exist'
        : `the host folder cannot be resolved (${errorMessage(error)})`,
    );
  }
  if (!statSync(real).isDirectory()) refuse(spec, 'the host path is not a folder');
  // Podman's bind spelling separates fields with ':' and options with ','.
  if (/[:,\n]/.test(real)) refuse(spec, `the host folder's real path ${real} contains : or ,`);
  return real;
}

function checkPlace(spec: HostMountSpec, real: string, context: HostMountContext): void {
  const via = real === spec.source ? '' : ` (the link resolves to ${real})`;
  if (real === '/') refuse(spec, `the host folder is the root folder${via}`);
  for (const tree of REFUSED_HOST_TREES) {
    if (isInside(real, tree) || isInside(real, realpathLoose(tree)) || isInside(spec.source, tree))
      refuse(spec, `the host folder is in ${tree}, which is never mounted${via}`);
    if (isInside(tree, real) || isInside(realpathLoose(tree), real))
      refuse(spec, `the host folder contains ${tree}, which is never mounted${via}`);
  }
  const state = realpathLoose(context.stateDir);
  if (isInside(real, state) || isInside(state, real))
    refuse(
      spec,
      `the host folder ${isInside(real, state) ? 'is in' : 'contains'} the state dir ${state} (MCP_BRIDGE_STATE_DIR)${via}`,
    );
  for (const place of context.protectedPlaces) {
    const protectedReal = realpathLoose(place.path);
    if (isInside(protectedReal, real) || isInside(place.path, real))
      refuse(spec, `the host folder contains ${place.what} ${place.path}${via}`);
  }
}

/**
 * Checks each host folder on disk and returns them resolved; throws ConfigError naming
 * MCP_BRIDGE_MOUNTS for the first one refused: missing, not a folder, `/`, a system tree,
 * the state dir or a folder around it, a folder around an engine socket or the bridge's
 * sockets, or the same folder twice (after links are followed).
 */
export function checkHostMounts(
  specs: readonly HostMountSpec[],
  context: HostMountContext,
): CheckedHostMount[] {
  const checked: CheckedHostMount[] = [];
  for (const spec of specs) {
    const real = resolveSource(spec);
    checkPlace(spec, real, context);
    const twice = checked.find((earlier) => earlier.source === real);
    if (twice)
      refuse(
        spec,
        `the host folder is already mounted at ${twice.target} (both resolve to ${real})`,
      );
    checked.push({ ...spec, source: real, given: spec.source });
  }
  return checked;
}

/** The sandbox's mounts for the checked host folders (see SandboxMount.hostFolder). */
export function hostFolderMounts(mounts: readonly CheckedHostMount[]): SandboxMount[] {
  return mounts.map((mount) => ({
    name: `${MOUNTS_VARIABLE} ${mount.source}`,
    mount: {
      Type: 'bind',
      Source: mount.source,
      Target: mount.target,
      ReadOnly: !mount.writable,
    },
    writable: mount.writable,
    hostFolder: true,
  }));
}

/**
 * What no host folder may contain: every engine API socket the bridge might use (the
 * address set, the well-known ones), the temp dir (the socket lane, a Podman service the
 * bridge starts and the package relay keep their sockets there), rootless engines'
 * storage.
 */
export function protectedHostPlaces(context: {
  engineSocket: string | undefined;
  candidates: readonly string[];
  home: string;
  tmpdir: string;
}): ProtectedPlace[] {
  const sockets = [context.engineSocket, ...context.candidates].filter(
    (socket): socket is string => socket !== undefined,
  );
  return [
    ...sockets.map((socket) => ({ path: socket, what: 'the engine socket' })),
    { path: context.tmpdir, what: 'the temp dir, where the bridge keeps its sockets,' },
    {
      path: path.join(context.home, '.local/share/containers'),
      what: "rootless Podman's storage",
    },
    { path: path.join(context.home, '.local/share/docker'), what: "rootless Docker's storage" },
  ];
}
