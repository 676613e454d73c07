import Module, { createRequire } from 'node:module';

/**
 * Memory: a CommonJS module some dependency loads at its own start, for a feature the
 * bridge seldom or never uses, can be replaced by a stand-in that loads the real module
 * the first time it is used. The stand-in goes into require's cache before the dependency
 * loads (so the module that registers it must be imported before that dependency), and
 * nothing stops working: the first use just pays for the load.
 */

const requireHere = createRequire(import.meta.url);

export type Loader = () => unknown;

/** A function stand-in: calling it, or `new` on it, reaches the real export. */
export function lazyFunction(load: Loader): unknown {
  return function standIn(this: unknown, ...args: unknown[]): unknown {
    const real = load() as ((...a: unknown[]) => unknown) & (new (...a: unknown[]) => unknown);
    return new.target ? new real(...args) : real.apply(this, args);
  };
}

/** An object stand-in with these function members. */
export function lazyMembers(names: string[]): (load: Loader) => unknown {
  return (load) =>
    Object.fromEntries(
      names.map((name) => [
        name,
        (...args: unknown[]) =>
          (load() as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args),
      ]),
    );
}

/**
 * Registers a stand-in for the module `request` as `fromModule` (a resolved file) would
 * require it. Does nothing when that module is loaded already or cannot be found.
 */
export function seedLazyModule(
  fromModule: string,
  request: string,
  standIn: (load: Loader) => unknown,
): void {
  const filename = resolveFrom(request, fromModule);
  if (!filename) return; // whoever needs it will say what is missing
  const cache = requireHere.cache;
  if (cache[filename]) return;
  let real: unknown;
  const load: Loader = () => {
    if (real === undefined) {
      if (cache[filename] === stand) delete cache[filename];
      real = requireHere(filename);
    }
    return real;
  };
  const stand = new Module(filename);
  stand.filename = filename;
  stand.loaded = true;
  stand.exports = standIn(load);
  cache[filename] = stand;
}

/** The file `request` resolves to as `fromModule` (a file; default: here) requires it. */
export function resolveFrom(request: string, fromModule?: string): string | undefined {
  try {
    return (fromModule ? createRequire(fromModule) : requireHere).resolve(request);
  } catch {
    return undefined;
  }
}
