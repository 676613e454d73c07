import type { PackagesConfig } from '../config/executor-env.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { distributionForImport } from './import-map.js';
import {
  buildInstallerCreateOptions,
  buildStoreRepairCreateOptions,
  installerDriverSource,
  runInstallerContainer,
  summarizeOutput,
  type InstallerEngine,
  type InstallerHardening,
  type InstallerRun,
} from './installer.js';
import { parsePackageSpec, type PackageSpec } from './package-spec.js';
import { ensurePackageVolume } from './package-store.js';
import { decidePackage } from './policy.js';

/** The outcome of one install request (docs/packages.md). */
export interface InstallResult {
  /** What was asked for, as given (trimmed). */
  package: string;
  success: boolean;
  message: string;
  /** When the attempt ended (ISO 8601). */
  installedAt: string;
  /** The requested distribution's version after the install. */
  version?: string;
  /** Every distribution the install added or replaced, dependencies included. */
  installed?: { name: string; version: string }[];
  durationMs?: number;
}

/** The seed's `install_python_package` result. */
export interface SeedInstallResult {
  package_name: string;
  success: boolean;
  message: string;
  installed_at: string;
}

export function toSeedInstallResult(result: InstallResult): SeedInstallResult {
  return {
    package_name: result.package,
    success: result.success,
    message: result.message,
    installed_at: result.installedAt,
  };
}

/** A request refused before any container started: invalid, or not allowed by policy. */
export class PackageRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageRefusedError';
  }
}

export type PackageCheck = { ok: true; spec: PackageSpec } | { ok: false; reason: string };

export interface PackageManagerOptions {
  config: PackagesConfig;
  /** The engine the sandbox uses (shared connection; connected on first need). */
  engine: () => Promise<InstallerEngine>;
  /** The sandbox's hardening settings for that engine; the installer reuses them. */
  hardening: (engine: InstallerEngine) => InstallerHardening;
  logger: Logger;
  /** Tests may replace the Python driver or the container run. */
  driverSource?: () => string;
  runInstaller?: typeof runInstallerContainer;
}

/**
 * Package installs for the bridge: validation, policy, one installer container at a time,
 * results the agent can read. Implements what automatic installs need
 * (src/server/dependencies.ts) and answers the sandbox's `install_package` requests.
 */
export class PackageManager {
  readonly #options: PackageManagerOptions;
  readonly #logger: Logger;
  /** Installs run one after another (the driver also locks the store across bridges). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: PackageManagerOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  get config(): PackagesConfig {
    return this.#options.config;
  }

  /** False when policy or MCP_BRIDGE_PACKAGES_AUTO rules automatic installs out. */
  get autoInstall(): boolean {
    return this.config.autoInstall && this.config.policy !== 'off';
  }

  /** The distribution that provides an import name (cv2 → opencv-python). */
  distributionFor(importName: string): string {
    return distributionForImport(importName);
  }

  /** Validation and policy only; never starts anything. */
  check(request: unknown): PackageCheck {
    const parsed = parsePackageSpec(request);
    if (!parsed.ok) return parsed;
    const decision = decidePackage(parsed.spec.normalizedName, this.config);
    return decision.allowed ? parsed : { ok: false, reason: decision.reason };
  }

  /**
   * Installs `request` if it is valid and allowed; a refusal throws PackageRefusedError
   * (no container is started), any other failure is a result with `success: false`.
   */
  async installOrRefuse(
    request: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<InstallResult> {
    const checked = this.check(request);
    if (!checked.ok) {
      throw new PackageRefusedError(`Cannot install '${describe(request)}': ${checked.reason}`);
    }
    const spec = checked.spec;
    const run = this.#queue.then(() => this.#installNow(request.trim(), spec, options.signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** installOrRefuse without the throw: refusals are results too. Never rejects. */
  async install(
    request: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<InstallResult> {
    try {
      return await this.installOrRefuse(request, options);
    } catch (error: unknown) {
      return this.#result(typeof request === 'string' ? request.trim() : '', {
        success: false,
        message: errorMessage(error),
      });
    }
  }

  /** Creates the store volume if missing; logs rather than fails (the sandbox can start). */
  async prepareStore(engine: InstallerEngine): Promise<void> {
    try {
      await ensurePackageVolume(engine.docker, this.config.volume, engine.kind);
    } catch (error: unknown) {
      this.#logger.warn(
        { volume: this.config.volume, err: errorMessage(error) },
        'could not create the package store volume',
      );
    }
  }

  async #installNow(
    request: string,
    spec: PackageSpec,
    signal: AbortSignal | undefined,
  ): Promise<InstallResult> {
    if (signal?.aborted) {
      return this.#result(request, { success: false, message: 'The install was cancelled.' });
    }
    let engine: InstallerEngine;
    try {
      engine = await this.#options.engine();
      await ensurePackageVolume(engine.docker, this.config.volume, engine.kind);
    } catch (error: unknown) {
      return this.#result(request, {
        success: false,
        message: `Cannot install ${spec.requirement}: the container engine is not available (${errorMessage(error)})`,
      });
    }
    const hardening = this.#options.hardening(engine);
    const createOptions = buildInstallerCreateOptions({
      hardening,
      settings: this.config,
      request: { name: spec.normalizedName, requirement: spec.requirement },
      driverSource: (this.#options.driverSource ?? installerDriverSource)(),
    });
    const runner = this.#options.runInstaller ?? runInstallerContainer;
    const runOptions = {
      timeoutMs: this.config.timeoutSeconds * 1000,
      signal,
      logger: this.#logger,
    };
    let run = await runner(engine.docker, createOptions, runOptions);
    const owner = run.result?.storeOwner;
    if (owner !== undefined && owner !== 0) {
      // The store was given to another user (Podman, volume made elsewhere): repair, retry.
      this.#logger.warn({ volume: this.config.volume, owner }, 'repairing the package store');
      const repair = await runner(
        engine.docker,
        buildStoreRepairCreateOptions({ hardening, volume: this.config.volume }),
        runOptions,
      );
      if (repair.outcome === 'finished' && repair.exitCode === 0) {
        run = await runner(engine.docker, createOptions, runOptions);
      }
    }
    const outcome = describeRun(spec, run, this.config.timeoutSeconds);
    this.#logger.info(
      {
        requirement: spec.requirement,
        success: outcome.success,
        ms: run.durationMs,
        outcome: run.outcome,
      },
      'package install',
    );
    return this.#result(request, { ...outcome, durationMs: run.durationMs });
  }

  #result(request: string, fields: Omit<InstallResult, 'package' | 'installedAt'>): InstallResult {
    return { package: request, ...fields, installedAt: new Date().toISOString() };
  }
}

function describe(request: unknown): string {
  const text = typeof request === 'string' ? request : String(request);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Turns a finished installer run into the agent-facing outcome. */
export function describeRun(
  spec: PackageSpec,
  run: InstallerRun,
  timeoutSeconds: number,
): Omit<InstallResult, 'package' | 'installedAt'> {
  const what = spec.requirement;
  const pip = summarizeOutput(run.output);
  const withOutput = (message: string) => (pip ? `${message}\npip said:\n${pip}` : message);
  switch (run.outcome) {
    case 'failed-to-start':
      return {
        success: false,
        message: `Cannot install ${what}: the installer container could not run (${run.error ?? 'unknown error'}). With an index URL the installer needs a network the engine can give it; for offline use set MCP_BRIDGE_PACKAGES_FIND_LINKS to a folder of wheels.`,
      };
    case 'timeout':
      return {
        success: false,
        message: withOutput(
          `Installing ${what} took longer than ${timeoutSeconds} s (MCP_BRIDGE_PACKAGES_TIMEOUT) and was stopped; nothing was installed.`,
        ),
      };
    case 'aborted':
      return {
        success: false,
        message: `Installing ${what} was stopped because the call that asked for it ended; nothing was installed.`,
      };
    case 'finished':
      break;
  }
  const result = run.result;
  if (!result) {
    return {
      success: false,
      message: withOutput(
        `Installing ${what} failed: the installer ended (exit code ${run.exitCode ?? 'unknown'}) without a result.`,
      ),
    };
  }
  if (!result.ok) {
    const unreachable = indexUnreachable(run.output);
    const why = unreachable
      ? `pip could not reach the package index (${unreachable}): check MCP_BRIDGE_PACKAGES_INDEX_URL and the engine's network, or install offline from MCP_BRIDGE_PACKAGES_FIND_LINKS`
      : (result.error ?? 'unknown error');
    return { success: false, message: withOutput(`Installing ${what} failed: ${why}.`) };
  }
  const version = result.requested?.version ?? undefined;
  const installed = result.installed ?? [];
  if (result.alreadySatisfied) {
    return {
      success: true,
      message: `${spec.normalizedName}${version ? ` ${version}` : ''} is already installed (nothing to do).`,
      ...(version ? { version } : {}),
      installed: [],
    };
  }
  const others = installed.filter(
    (item) => item.name.toLowerCase() !== result.requested?.name.toLowerCase(),
  );
  const extra =
    others.length > 0
      ? ` with ${others.map((item) => `${item.name} ${item.version}`).join(', ')}`
      : '';
  return {
    success: true,
    message: `Installed ${spec.normalizedName}${version ? ` ${version}` : ''}${extra} in ${seconds(run.durationMs)}.`,
    ...(version ? { version } : {}),
    installed,
  };
}

/** Why pip could not connect to the index, when its retry warnings say so. */
export function indexUnreachable(output: string): string | undefined {
  const match =
    /Failed to establish a new connection: (?:\[Errno -?\d+\] )?([^'")]+)/.exec(output) ??
    /(Read timed out|Connection refused|Network is unreachable|Name or service not known)/.exec(
      output,
    );
  return match?.[1]?.trim();
}
