/** The run_python result payload (README, "The result payload"), before it is rendered. */
export type RunStatus = 'success' | 'error' | 'timeout' | 'cancelled' | 'validation_error';

export interface RunPayload {
  status: RunStatus;
  summary: string;
  exitCode?: number;
  stdout?: string[];
  stderr?: string[];
  servers?: string[];
  error?: string;
  timeoutSeconds?: number;
  /** Things the agent must know that the code did not print, e.g. a session reset. */
  notices?: string[];
}

/**
 * Splits output into the payload's lines: whitespace-only lines and lines that are only
 * `()` carry nothing for the model and are dropped.
 */
export function outputLines(text: string): string[] {
  if (text === '') return [];
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/\s+$/, ''))
    .filter((line) => line.trim() !== '' && line.trim() !== '()');
}

/** Drops empty strings, empty lists and undefined fields, keeping the key order. */
export function trimPayload(payload: RunPayload): RunPayload {
  const trimmed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && value.length === 0) continue;
    trimmed[key] = value;
  }
  return trimmed as unknown as RunPayload;
}
