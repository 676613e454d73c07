import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SandboxModule } from '../channel/frames.js';
import { packageRoot } from '../util/package-root.js';
import { readPythonPackages } from '../util/python-packages.js';

export interface SandboxSources {
  /** Runs as `python3 -u -c <bootstrap> <nonce>`: small enough for a command line. */
  bootstrap: string;
  /** Dotted module name → source, sent in the boot frame. */
  modules: Record<string, SandboxModule>;
  entry: string;
}

/** Host data handed to the sandbox as modules: name → {CONSTANT: JSON value}. */
export type GeneratedModules = Record<string, Record<string, unknown>>;

/**
 * The packages under `sandbox/` that run in the sandbox: the runner, the agent's `mcp`
 * package and what it shares with the installer. `sandbox/mcp_installer` runs only in the
 * installer container (src/packages/installer-driver.ts) and is not sent here.
 */
export const SANDBOX_PACKAGES = ['mcp', 'mcp_sandbox', 'mcp_shared'] as const;

/**
 * Reads the Python that runs in the container, once, for every new sandbox; `generated`
 * adds modules holding host data.
 */
export function loadSandboxSources(
  generated: GeneratedModules = {},
  sandboxDir = path.join(packageRoot(), 'sandbox'),
): SandboxSources {
  const modules: Record<string, SandboxModule> = readPythonPackages(sandboxDir, SANDBOX_PACKAGES);
  for (const [name, constants] of Object.entries(generated)) {
    modules[name] = { source: pythonConstants(constants), package: false };
  }
  return {
    bootstrap: readFileSync(path.join(sandboxDir, 'bootstrap.py'), 'utf8'),
    modules,
    entry: 'mcp_sandbox.runner',
  };
}

/**
 * A module of constants. Each value is JSON inside a JSON string literal, which is also a
 * valid Python string literal, so no host text can break out of it.
 */
function pythonConstants(constants: Record<string, unknown>): string {
  const lines = ['import json as _json', ''];
  for (const [key, value] of Object.entries(constants)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`invalid constant name ${key}`);
    lines.push(`${key} = _json.loads(${JSON.stringify(JSON.stringify(value))})`);
  }
  return `${lines.join('\n')}\n`;
}
