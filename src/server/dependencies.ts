import { errorMessage } from '../errors.js';
import type { SandboxSession } from '../session/sandbox-session.js';
import { pythonCall, runInternalCell } from './internal-cell.js';

/** What automatic installs need from the package layer (src/packages/). */
export interface DependencyInstaller {
  /** False when policy or MCP_BRIDGE_PACKAGES_AUTO rules automatic installs out. */
  readonly autoInstall: boolean;
  /** The distribution that provides an import name (cv2 → opencv-python). */
  distributionFor(importName: string): string;
  /** Installs if policy allows; never throws for a refusal or a failed install. */
  install(spec: string): Promise<{ success: boolean; message: string }>;
}

export interface DependencyReport {
  installed: string[];
  /** One line per import that could not be provided, with why. */
  problems: string[];
  /** The seed's `dependencies_info`: what was installed or why not; '' when nothing was missing. */
  info: string;
}

const NOTHING: DependencyReport = { installed: [], problems: [], info: '' };

/**
 * Before code runs: finds its imports that the sandbox cannot satisfy (read with Python's
 * ast inside the sandbox, never executed), maps them to distributions and installs those
 * policy allows. Skipped cheaply for code without an import statement.
 */
export async function installMissingImports(
  session: SandboxSession,
  code: string,
  installer: DependencyInstaller | undefined,
): Promise<DependencyReport> {
  if (!installer?.autoInstall || !/\bimport\b/.test(code)) return NOTHING;
  let missing: string[];
  try {
    const found = await runInternalCell(
      session,
      pythonCall('mcp.imports', 'missing_imports', [code]),
    );
    missing = Array.isArray(found)
      ? found.filter((name): name is string => typeof name === 'string')
      : [];
  } catch (error: unknown) {
    return { ...NOTHING, info: `Could not check imports: ${errorMessage(error)}` };
  }
  if (missing.length === 0) return NOTHING;
  const installed: string[] = [];
  const problems: string[] = [];
  for (const name of missing) {
    const distribution = installer.distributionFor(name);
    const outcome = await installer.install(distribution);
    if (outcome.success) installed.push(distribution);
    else problems.push(`${name} (${distribution}): ${outcome.message}`);
  }
  const parts = [
    installed.length > 0 ? `Installed: ${installed.join(', ')}` : '',
    problems.length > 0 ? `Not installed: ${problems.join('; ')}` : '',
  ].filter(Boolean);
  return { installed, problems, info: parts.join('. ') };
}
