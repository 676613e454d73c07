import { SOAK_TARGETS, type SoakFigures, type SoakSample } from './soak-bench.js';

/** How the soak figure is printed (bench/soak-bench.ts measures it). */

const mibOf = (kiB: number | undefined) =>
  kiB === undefined ? '?' : `${(kiB / 1024).toFixed(1)} MiB`;
const signed = (value: number, digits = 1) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

/** The lines the bench prints for the soak. */
export function describeSoak(figures: SoakFigures): string[] {
  const point = (name: string, at: SoakSample) =>
    `    ${name.padEnd(14)} ${String(at.calls).padStart(5)} calls: RSS ${mibOf(at.rssKiB)} as found,` +
    ` ${mibOf(at.rssAfterGcKiB)} after full GC (JS heap ${mibOf(at.heapAfterGcKiB)} of` +
    ` ${mibOf(at.heapCommittedKiB)} committed),` +
    ` ${at.fds ?? '?'} open fds, ${at.containers} container(s)`;
  const mix = Object.entries(figures.mix)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');
  return [
    `\nsoak: ${figures.calls} calls of mixed work on one bridge in ${figures.seconds.toFixed(1)} s` +
      ` (${mix}); the bridge's memory, open fds and containers:`,
    point('start', figures.start),
    point('after warm-up', figures.afterWarmup),
    point('middle', figures.middle),
    point('end', figures.end),
    `    end − after warm-up: RSS after full GC ${signed(figures.rssGrowthMiB)} MiB` +
      ` (target ≤ ${SOAK_TARGETS.rssGrowthMiB} MiB: ${verdict(figures.met.rss)}),` +
      ` as found ${signed(figures.rssGrowthAsFoundMiB)} MiB (V8 collects lazily),` +
      ` JS heap ${signed(figures.heapGrowthMiB, 2)} MiB;` +
      ` fds ${signed(figures.fdDrift, 0)} (target ±${SOAK_TARGETS.fdDrift}: ${verdict(figures.met.fds)});` +
      ` containers ${figures.afterWarmup.containers}/${figures.middle.containers}/${figures.end.containers}` +
      ` (target ${SOAK_TARGETS.containers}: ${verdict(figures.met.containers)})`,
  ];
}

/** One summary-table row of the soak: what, its target, and per result its value. */
export interface SoakRow {
  figure: string;
  target: string;
  cell(figures: SoakFigures | { error: string }): { value: string; met: boolean | undefined };
}

const failed = { value: 'failed', met: false };

export const SOAK_ROWS: readonly SoakRow[] = [
  {
    figure: 'soak: RSS after full GC, end − warm-up',
    target: `≤ ${SOAK_TARGETS.rssGrowthMiB} MiB`,
    cell: (figures) =>
      'error' in figures
        ? failed
        : { value: `${signed(figures.rssGrowthMiB)} MiB`, met: figures.met.rss },
  },
  {
    figure: 'soak: RSS as found, end − warm-up',
    target: '—',
    cell: (figures) =>
      'error' in figures
        ? failed
        : { value: `${signed(figures.rssGrowthAsFoundMiB)} MiB`, met: undefined },
  },
  {
    figure: 'soak: open fds, end − warm-up',
    target: `±${SOAK_TARGETS.fdDrift}`,
    cell: (figures) =>
      'error' in figures ? failed : { value: signed(figures.fdDrift, 0), met: figures.met.fds },
  },
  {
    figure: 'soak: containers (warm-up/middle/end)',
    target: String(SOAK_TARGETS.containers),
    cell: (figures) =>
      'error' in figures
        ? failed
        : {
            value: [figures.afterWarmup, figures.middle, figures.end]
              .map((at) => at.containers)
              .join('/'),
            met: figures.met.containers,
          },
  },
];
