import type { PackagesConfig } from '../config/executor-env.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { distributionForImport } from './import-map.js';
import {
  buildInstallerCreateOptions,
  buildStoreRepairCreateOptions,
  installerDriverSource,
  type InstallerEngine,
  type InstallerHardening,
} from './installer.js';
import { runInstallerContainer, type InstallerRun } from './installer-run.js';
import { parsePackageSpec, type PackageSpec } from './package-spec.js';
import { describeRun } from './install-outcome.js';
import type { InstallResult } from './install-result.js';
import { ensurePackageVolume } from './package-store.js';
import { openPackageRelay } from './relay/open-relay.js';
import type { PackageRelay } from './relay/package-relay.js';
import { decidePackage } from './policy.js';

// Defined apart so that install-outcome.ts need not import this module.
export type { InstallResult } from './install-result.js';

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

  /** Automatic installs of one call start no install after this long (one install's limit). */
  get autoInstallBudgetMs(): number {
    return this.config.timeoutSeconds * 1000;
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
    let relay: PackageRelay | undefined;
    try {
      relay = await openPackageRelay(this.config, this.#logger);
    } catch (error: unknown) {
      return this.#result(request, {
        success: false,
        message: `Cannot install ${spec.requirement}: the package relay could not start (${errorMessage(error)})`,
      });
    }
    let run: InstallerRun;
    try {
      run = await this.#runInstaller(engine, spec, relay, signal);
    } finally {
      await relay?.close();
    }
    const outcome = describeRun(spec, run, this.config.timeoutSeconds, relay?.refusals());
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

  /** One installer container (and, when the store needs it, a repair and a retry). */
  async #runInstaller(
    engine: InstallerEngine,
    spec: PackageSpec,
    relay: PackageRelay | undefined,
    signal: AbortSignal | undefined,
  ): Promise<InstallerRun> {
    const hardening = this.#options.hardening(engine);
    const createOptions = buildInstallerCreateOptions({
      hardening,
      settings: this.config,
      request: { name: spec.normalizedName, requirement: spec.requirement },
      driverSource: (this.#options.driverSource ?? installerDriverSource)(),
      relay,
    });
    const runner = this.#options.runInstaller ?? runInstallerContainer;
    const runOptions = {
      timeoutMs: this.config.timeoutSeconds * 1000,
      signal,
      logger: this.#logger,
    };
    const run = await runner(engine.docker, createOptions, runOptions);
    const owner = run.result?.storeOwner;
    if (owner === undefined || owner === 0) return run;
    // The store was given to another user (Podman, volume made elsewhere): repair, retry.
    this.#logger.warn({ volume: this.config.volume, owner }, 'repairing the package store');
    const repair = await runner(
      engine.docker,
      buildStoreRepairCreateOptions({ hardening, volume: this.config.volume }),
      runOptions,
    );
    if (repair.outcome !== 'finished' || repair.exitCode !== 0) return run;
    return runner(engine.docker, createOptions, runOptions);
  }

  #result(request: string, fields: Omit<InstallResult, 'package' | 'installedAt'>): InstallResult {
    return { package: request, ...fields, installedAt: new Date().toISOString() };
  }
}

function describe(request: unknown): string {
  const text = typeof request === 'string' ? request : String(request);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export { describeRun, indexUnreachable } from './install-outcome.js';
