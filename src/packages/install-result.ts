/** What an install request comes to (docs/packages.md): a result, or a refusal. */
import { BridgeError } from '../errors.js';

/** The outcome of one install request. */
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

/** What an install attempt reports, before the request and time are added. */
export type InstallOutcome = Omit<InstallResult, 'package' | 'installedAt'>;

/** A request refused before any container started: invalid, or not allowed by policy. */
export class PackageRefusedError extends BridgeError {
  constructor(message: string) {
    super('package_refused', message);
  }
}
