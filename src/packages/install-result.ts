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
