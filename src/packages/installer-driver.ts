import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { readPythonPackages } from '../util/python-packages.js';

/**
 * The Python program (the driver) the installer container runs as
 * `python3 -I -u -c <program> <json>` (docs/packages.md): sandbox/installer_launcher.py,
 * then a call of its launch() with the sources of the packages below, which it serves from
 * memory; launch() then runs mcp_installer.driver.main(). The container has none of our
 * files on disk, and the sandbox's boot frame carries none of these
 * (src/session/boot-modules.ts).
 */

/** The packages under `sandbox/` that the installer runs. */
export const INSTALLER_PACKAGES = ['mcp_installer', 'mcp_shared'] as const;

/** What the driver is asked to do (its argv[1], as JSON; DriverArguments in driver.py). */
export interface DriverArguments {
  name: string;
  requirement: string;
  pipOptions: string[];
  sourceOptions: string[];
  maxBytes: number;
  deny: string[];
  /** The package relay's socket inside the container, when pip goes through it. */
  relaySocket?: string;
}

/**
 * The program, read from the package's sandbox/ folder. The sources travel as JSON inside
 * a JSON string literal, which is also a valid Python string literal: no source text can
 * end it early.
 */
export function installerDriverSource(sandboxDir = path.join(packageRoot(), 'sandbox')): string {
  const launcher = readFileSync(path.join(sandboxDir, 'installer_launcher.py'), 'utf8');
  const modules = readPythonPackages(sandboxDir, INSTALLER_PACKAGES);
  const literal = JSON.stringify(JSON.stringify(modules));
  return `${launcher}\n\nimport json as _json\n\nlaunch(_json.loads(${literal}))\n`;
}
