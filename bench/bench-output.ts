import os from 'node:os';

/** Printing helpers shared by the run_python benchmark's sections. */

export function log(line = ''): void {
  console.log(line);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

export const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;
