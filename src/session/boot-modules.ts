import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SandboxModule } from '../channel/frames.js';
import { packageRoot } from '../util/package-root.js';

export interface SandboxSources {
  /** Runs as `python3 -u -c <bootstrap> <nonce>`: small enough for a command line. */
  bootstrap: string;
  /** Dotted module name → source, sent in the boot frame. */
  modules: Record<string, SandboxModule>;
  entry: string;
}

/** Reads the Python that runs in the container: read once, sent to every new sandbox. */
export function loadSandboxSources(
  sandboxDir = path.join(packageRoot(), 'sandbox'),
): SandboxSources {
  const modules: Record<string, SandboxModule> = {};
  const walk = (folder: string, prefix: string[]) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory() && existsSync(path.join(full, '__init__.py'))) {
        walk(full, [...prefix, entry.name]);
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        const isPackage = entry.name === '__init__.py';
        const name = isPackage ? prefix : [...prefix, entry.name.slice(0, -3)];
        modules[name.join('.')] = { source: readFileSync(full, 'utf8'), package: isPackage };
      }
    }
  };
  walk(path.join(sandboxDir, 'mcp_sandbox'), ['mcp_sandbox']);
  return {
    bootstrap: readFileSync(path.join(sandboxDir, 'bootstrap.py'), 'utf8'),
    modules,
    entry: 'mcp_sandbox.runner',
  };
}
