/** Summary statistics and number formatting for the benchmark's printed figures. */

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p in 0..100) of an ascending-sorted, non-empty array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

export function median(samples: readonly number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );
}

/** Milliseconds with a precision that suits their size: 0.412, 12.3, 153. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 10) return `${value.toFixed(3)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

export function mib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`;
}

/** "p50 0.412 ms · p90 … · max …" for one line of output. */
export function describeSummary(summary: Summary): string {
  return [
    `p50 ${ms(summary.p50)}`,
    `p90 ${ms(summary.p90)}`,
    `p99 ${ms(summary.p99)}`,
    `max ${ms(summary.max)}`,
    `(n=${summary.count}, min ${ms(summary.min)}, mean ${ms(summary.mean)})`,
  ].join(' · ');
}

/** Rounds every number in a figure tree to 3 decimals for the JSON file. */
export function rounded<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'number' && !Number.isInteger(inner)
        ? Math.round(inner * 1000) / 1000
        : inner,
    ),
  ) as T;
}
