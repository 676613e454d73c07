import type { PackagesConfig } from '../config/executor-env.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import {
  buildInstallerCreateOptions,
  type InstallerEngine,
  type InstallerHardening,
} from './installer-container.js';
import type { InstallerRun, runInstallerContainer } from './installer-run.js';
import { describeRun } from './install-outcome.js';
import type { InstallOutcome } from './install-result.js';
import type { PackageSpec } from './package-spec.js';
import { ensurePackageVolume } from './package-store.js';
import { openPackageRelay } from './relay/open-relay.js';
import type { PackageRelay } from './relay/package-relay.js';
import { buildStoreRepairCreateOptions } from './store-repair.js';

/** What one install needs from the bridge (PackageManager provides it). */
export interface InstallContext {
  config: PackagesConfig;
  /** The engine the sandbox uses (shared connection; connected on first need). */
  engine: () => Promise<InstallerEngine>;
  /** The sandbox's hardening settings for that engine; the installer reuses them. */
  hardening: (engine: InstallerEngine) => InstallerHardening;
  logger: Logger;
  /** The installer's program (installerDriverSource()). */
  driverSource: () => string;
  runInstaller: typeof runInstallerContainer;
}

/**
 * One install of a request that passed validation and policy: the engine and the store
 * volume, the package relay when the source needs it, the installer container (with a
 * store repair and a retry when needed), and what it came to. Failures are outcomes.
 */
export async function attemptInstall(
  context: InstallContext,
  spec: PackageSpec,
  signal: AbortSignal | undefined,
): Promise<InstallOutcome> {
  const { config, logger } = context;
  if (signal?.aborted) return { success: false, message: 'The install was cancelled.' };
  let engine: InstallerEngine;
  try {
    engine = await context.engine();
    await ensurePackageVolume(engine.docker, config.volume, engine.kind);
  } catch (error: unknown) {
    return {
      success: false,
      message: `Cannot install ${spec.requirement}: the container engine is not available (${errorMessage(error)})`,
    };
  }
  let relay: PackageRelay | undefined;
  try {
    relay = await openPackageRelay(config, logger);
  } catch (error: unknown) {
    return {
      success: false,
      message: `Cannot install ${spec.requirement}: the package relay could not start (${errorMessage(error)})`,
    };
  }
  let run: InstallerRun;
  try {
    run = await runWithRepair(context, engine, spec, relay, signal);
  } finally {
    await relay?.close();
  }
  const outcome = describeRun(spec, run, config.timeoutSeconds, relay?.refusals());
  logger.info(
    {
      requirement: spec.requirement,
      success: outcome.success,
      ms: run.durationMs,
      outcome: run.outcome,
    },
    'package install',
  );
  return { ...outcome, durationMs: run.durationMs };
}

/** One installer container (and, when the store needs it, a repair and a retry). */
async function runWithRepair(
  context: InstallContext,
  engine: InstallerEngine,
  spec: PackageSpec,
  relay: PackageRelay | undefined,
  signal: AbortSignal | undefined,
): Promise<InstallerRun> {
  const { config, logger, runInstaller } = context;
  const hardening = context.hardening(engine);
  const createOptions = buildInstallerCreateOptions({
    hardening,
    settings: config,
    request: { name: spec.normalizedName, requirement: spec.requirement },
    driverSource: context.driverSource(),
    relay,
  });
  const runOptions = { timeoutMs: config.timeoutSeconds * 1000, signal, logger };
  const run = await runInstaller(engine.docker, createOptions, runOptions);
  const owner = run.result?.storeOwner;
  if (owner === undefined || owner === 0) return run;
  // The store was given to another user (Podman, volume made elsewhere): repair, retry.
  logger.warn({ volume: config.volume, owner }, 'repairing the package store');
  const repair = await runInstaller(
    engine.docker,
    buildStoreRepairCreateOptions({ hardening, volume: config.volume }),
    runOptions,
  );
  if (repair.outcome !== 'finished' || repair.exitCode !== 0) return run;
  return runInstaller(engine.docker, createOptions, runOptions);
}
