import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One Python module sent as source to a container that has none of ours on disk. */
export interface PythonModule {
  source: string;
  /** An `__init__.py`: the module is a package. */
  package: boolean;
}

/**
 * The named packages under `folder` (each a subfolder with `__init__.py`, its subpackages
 * included), as dotted module name → source.
 */
export function readPythonPackages(
  folder: string,
  packages: readonly string[],
): Record<string, PythonModule> {
  const modules: Record<string, PythonModule> = {};
  const walk = (dir: string, prefix: string[]) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && existsSync(path.join(full, '__init__.py'))) {
        walk(full, [...prefix, entry.name]);
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        const isPackage = entry.name === '__init__.py';
        const name = isPackage ? prefix : [...prefix, entry.name.slice(0, -3)];
        modules[name.join('.')] = { source: readFileSync(full, 'utf8'), package: isPackage };
      }
    }
  };
  for (const name of packages) {
    const dir = path.join(folder, name);
    if (!existsSync(path.join(dir, '__init__.py'))) {
      throw new Error(`${dir} is not a Python package (no __init__.py)`);
    }
    walk(dir, [name]);
  }
  return modules;
}
