import { errorMessage } from '../errors.js';
import { normalizePackageName } from '../packages/package-spec.js';
import type { SandboxSession } from '../session/sandbox-session.js';
import { pythonCall, runInternalCell } from './internal-cell.js';

/** What automatic installs need from the package layer (src/packages/). */
export interface DependencyInstaller {
  /** False when policy or MCP_BRIDGE_PACKAGES_AUTO rules automatic installs out. */
  readonly autoInstall: boolean;
  /** How long the automatic installs of one call may keep starting installs, in ms. */
  readonly autoInstallBudgetMs: number;
  /** The distribution that provides an import name (cv2 → opencv-python). */
  distributionFor(importName: string): string;
  /** Installs if validation and policy allow; never throws for a refusal or a failure. */
  install(spec: string): Promise<{ success: boolean; message: string }>;
}

export interface DependencyReport {
  installed: string[];
  /** One line per import that could not be provided, with why. */
  problems: string[];
  /** The seed's `dependencies_info`: what was installed or why not; '' when nothing was missing. */
  info: string;
}

/** At most this many distinct missing imports are installed automatically per call. */
export const MAX_AUTO_INSTALLS = 8;
/** An import's top-level name: a Python identifier (ASCII, as package names are). */
const IMPORT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const PROBLEMS_SHOWN = 5;
const PROBLEM_CHARS = 300;
const NAMES_SHOWN = 5;

const NOTHING: DependencyReport = { installed: [], problems: [], info: '' };

/**
 * What to install for a cell, from the sandbox's list of missing imports. Security: the
 * list comes from the session, which user code controls (it can replace the scanner), so
 * it is read like any request from the sandbox: only identifiers, each once, at most
 * MAX_AUTO_INSTALLS of them; every install is then validated and policy-checked like an
 * explicit one.
 */
export interface AutoInstallPlan {
  /** Distinct valid import names to try, in the scanner's order. */
  names: string[];
  /** Entries that were not valid import names, and a few of them to show. */
  invalid: { count: number; examples: string[] };
  /** Valid names beyond MAX_AUTO_INSTALLS. */
  surplus: string[];
}

export function planAutoInstall(found: unknown): AutoInstallPlan | undefined {
  if (!Array.isArray(found)) return undefined;
  const valid = new Set<string>();
  const invalid: AutoInstallPlan['invalid'] = { count: 0, examples: [] };
  for (const entry of found as unknown[]) {
    if (typeof entry === 'string' && IMPORT_NAME.test(entry)) {
      valid.add(entry);
      continue;
    }
    invalid.count += 1;
    if (invalid.examples.length < 2) invalid.examples.push(quoted(entry));
  }
  const names = [...valid];
  return {
    names: names.slice(0, MAX_AUTO_INSTALLS),
    invalid,
    surplus: names.slice(MAX_AUTO_INSTALLS),
  };
}

/**
 * Installs what the plan names, one distribution at a time (two imports of one
 * distribution install it once), and starts no install once `budgetMs` has passed.
 */
export async function installPlanned(
  plan: AutoInstallPlan,
  installer: DependencyInstaller,
  now: () => number = () => performance.now(),
  signal?: AbortSignal,
): Promise<DependencyReport> {
  const started = now();
  const installed: string[] = [];
  const problems: string[] = [];
  const late: string[] = [];
  const tried = new Set<string>();
  for (const name of plan.names) {
    if (signal?.aborted) break; // the call was cancelled: its code will not run
    if (now() - started > installer.autoInstallBudgetMs) {
      late.push(name);
      continue;
    }
    const distribution = installer.distributionFor(name);
    const key = normalizePackageName(distribution);
    if (tried.has(key)) continue;
    tried.add(key);
    const outcome = await installer.install(distribution);
    if (outcome.success) installed.push(distribution);
    else problems.push(truncate(`${name} (${distribution}): ${outcome.message}`, PROBLEM_CHARS));
  }
  const shownProblems = problems.slice(0, PROBLEMS_SHOWN);
  const parts = [
    installed.length > 0 ? `Installed: ${installed.join(', ')}` : '',
    problems.length > 0
      ? `Not installed: ${shownProblems.join('; ')}${problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : ''}`
      : '',
    late.length > 0
      ? `${late.length} missing imports were not installed: the automatic installs of this call ran out of time (${Math.round(installer.autoInstallBudgetMs / 1000)} s, MCP_BRIDGE_PACKAGES_TIMEOUT): ${listed(late)}`
      : '',
    plan.surplus.length > 0
      ? `${plan.surplus.length} more missing imports were not installed automatically (at most ${MAX_AUTO_INSTALLS} per call): ${listed(plan.surplus)}; install them with runtime.install_package() if needed`
      : '',
    plan.invalid.count > 0
      ? `ignored ${plan.invalid.count} names that are not valid import names (e.g. ${plan.invalid.examples.join(', ')})`
      : '',
  ].filter(Boolean);
  return { installed, problems, info: parts.join('. ') };
}

/**
 * Before code runs: finds its imports that the sandbox cannot satisfy (read with Python's
 * ast and looked up in a fresh interpreter inside the sandbox, never executed), maps them
 * to distributions and installs those policy allows, within the bounds above. Skipped
 * cheaply for code without an import statement.
 */
export async function installMissingImports(
  session: SandboxSession,
  code: string,
  installer: DependencyInstaller | undefined,
  signal?: AbortSignal,
): Promise<DependencyReport> {
  if (!installer?.autoInstall || !/\bimport\b/.test(code) || signal?.aborted) return NOTHING;
  let plan: AutoInstallPlan | undefined;
  try {
    plan = planAutoInstall(
      await runInternalCell(session, pythonCall('mcp.imports', 'missing_imports', [code])),
    );
  } catch (error: unknown) {
    return { ...NOTHING, info: `Could not check imports: ${errorMessage(error)}` };
  }
  if (!plan) return { ...NOTHING, info: 'Could not check imports: the sandbox gave no list' };
  if (plan.names.length === 0 && plan.invalid.count === 0) return NOTHING;
  return installPlanned(plan, installer, undefined, signal);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function listed(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown}, …` : shown;
}

/** A value from the sandbox, safe to show: JSON, at most 40 characters. */
function quoted(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return truncate(text, 40);
}
