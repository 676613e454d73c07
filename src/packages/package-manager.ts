import type { PackagesConfig } from '../config/executor-env.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { distributionForImport } from './import-map.js';
import { attemptInstall, type InstallContext } from './install-attempt.js';
import { PackageRefusedError, type InstallOutcome, type InstallResult } from './install-result.js';
import type { InstallerEngine, InstallerHardening } from './installer-container.js';
import { installerDriverSource } from './installer-driver.js';
import { runInstallerContainer } from './installer-run.js';
import { parsePackageSpec, type PackageSpec } from './package-spec.js';
import { ensurePackageVolume } from './package-store.js';
import { decidePackage } from './policy.js';

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
 * Package installs for the bridge: validation, policy, one install at a time
 * (install-attempt.ts runs each), results the agent can read. Implements what automatic
 * installs need (src/server/dependencies.ts) and answers the sandbox's `install_package`
 * requests.
 */
export class PackageManager {
  readonly #options: PackageManagerOptions;
  readonly #logger: Logger;
  readonly #context: InstallContext;
  /** Installs run one after another (the driver also locks the store across bridges). */
  #queue: Promise<unknown> = Promise.resolve();
  /** The installer's program, read from sandbox/ on the first install. */
  #driverSource: string | undefined;

  constructor(options: PackageManagerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#context = {
      config: options.config,
      engine: options.engine,
      hardening: options.hardening,
      logger: options.logger,
      driverSource: () =>
        (this.#driverSource ??= (options.driverSource ?? installerDriverSource)()),
      runInstaller: options.runInstaller ?? runInstallerContainer,
    };
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
    return this.#result(request, await attemptInstall(this.#context, spec, signal));
  }

  #result(request: string, fields: InstallOutcome): InstallResult {
    return { package: request, ...fields, installedAt: new Date().toISOString() };
  }
}

function describe(request: unknown): string {
  const text = typeof request === 'string' ? request : String(request);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
