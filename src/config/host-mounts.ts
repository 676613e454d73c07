import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';

/** The variable that names the host folders the sandbox gets (README, "Files in"). */
export const MOUNTS_VARIABLE = 'MCP_BRIDGE_MOUNTS';

/** Every mount target lies strictly below this folder (the sandbox's cwd and HOME). */
export const MOUNTS_PARENT = '/workspace';

/**
 * Targets below /workspace that belong to the sandbox itself: `/workspace/out` is where a
 * call leaves files to hand back (a host folder there would be handed back too), and
 * dot-folders are where Python tools keep their config and caches (HOME is /workspace).
 */
const RESERVED_TARGETS = ['/workspace/out'];

/** More would only make a longer list for the agent to read; the engines take more. */
export const MAX_HOST_MOUNTS = 16;

/**
 * Characters a target may use. Commas and colons separate entries and fields here (and in
 * Podman's bind spelling); anything beyond this set would only make a path to misread.
 */
const TARGET_CHARACTERS = /^[A-Za-z0-9._@+/-]+$/;

/** One host folder the user gives the sandbox, as written (not yet checked on disk). */
export interface HostMountSpec {
  /** The host folder, `~` expanded, absolute; the checks resolve it with realpath. */
  source: string;
  /** Where the sandbox sees it: a normalised path strictly below /workspace. */
  target: string;
  /** `:rw` given; read-only otherwise. */
  writable: boolean;
}

function refuse(entry: string, why: string): never {
  throw new ConfigError(
    `Invalid environment: ${MOUNTS_VARIABLE} entry "${entry}": ${why}. ` +
      `Write HOST:TARGET[:ro|:rw] entries separated by commas, e.g. ` +
      `~/data:/workspace/data:ro,~/exports:/workspace/exports:rw (README, "Files in").`,
  );
}

function expandHome(value: string, home: string): string {
  if (value === '~') return home;
  if (value.startsWith('~/')) return path.join(home, value.slice(2));
  return value;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

function checkTarget(entry: string, target: string): void {
  if (!target.startsWith('/')) refuse(entry, `the target "${target}" is not an absolute path`);
  if (!TARGET_CHARACTERS.test(target))
    refuse(entry, `the target "${target}" may use only letters, digits and . _ @ + - /`);
  if (path.posix.normalize(target) !== target || target.endsWith('/'))
    refuse(entry, `the target "${target}" is not a normalised path (no ., .., // or final /)`);
  if (!isInside(target, MOUNTS_PARENT) || target === MOUNTS_PARENT)
    refuse(entry, `the target "${target}" must be a folder inside ${MOUNTS_PARENT}`);
  for (const reserved of RESERVED_TARGETS) {
    if (isInside(target, reserved) || isInside(reserved, target))
      refuse(entry, `the target "${target}" collides with ${reserved}, which the sandbox uses`);
  }
  if (target.split('/').some((part) => part.startsWith('.')))
    refuse(
      entry,
      `the target "${target}" names a dot-folder, where the sandbox's tools keep their own files`,
    );
}

function parseEntry(entry: string, home: string): HostMountSpec {
  const fields = entry.split(':').map((field) => field.trim());
  if (fields.length < 2 || fields.length > 3)
    refuse(entry, 'expected HOST:TARGET or HOST:TARGET:ro or HOST:TARGET:rw');
  const [rawSource = '', target = '', mode = 'ro'] = fields;
  if (mode !== 'ro' && mode !== 'rw') refuse(entry, `the mode "${mode}" is neither ro nor rw`);
  if (rawSource === '') refuse(entry, 'the host folder is empty');
  const source = expandHome(rawSource, home);
  if (!path.isAbsolute(source))
    refuse(entry, `the host folder "${rawSource}" is relative; give an absolute path or ~/…`);
  checkTarget(entry, target);
  return { source: path.resolve(source), target, writable: mode === 'rw' };
}

/**
 * Parses MCP_BRIDGE_MOUNTS: `HOST:TARGET[:ro|:rw]`, comma-separated, read-only unless
 * `:rw`. Checks the spelling only (targets, modes, duplicates); what the host folders
 * are is checked on disk when the bridge starts (container/host-mount-check.ts).
 * Throws ConfigError naming the variable and the entry.
 */
export function parseHostMounts(value: string, home: string = os.homedir()): HostMountSpec[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length > MAX_HOST_MOUNTS)
    refuse(entries[MAX_HOST_MOUNTS] ?? '', `at most ${MAX_HOST_MOUNTS} mounts are allowed`);
  const specs: HostMountSpec[] = [];
  for (const entry of entries) {
    const spec = parseEntry(entry, home);
    for (const earlier of specs) {
      if (earlier.target === spec.target) refuse(entry, `the target ${spec.target} is given twice`);
      // A folder mounted inside another mount would hide part of it, or be hidden.
      if (isInside(spec.target, earlier.target) || isInside(earlier.target, spec.target))
        refuse(entry, `the target ${spec.target} overlaps ${earlier.target}`);
      if (earlier.source === spec.source)
        refuse(entry, `the host folder ${spec.source} is given twice`);
    }
    specs.push(spec);
  }
  return specs;
}
