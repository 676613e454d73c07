import { log, pct } from './bench-output.js';
import type { EngineFigures, ProxyFigures, RunFigures } from './run-python-figures.js';
import { SETTINGS, TARGETS } from './run-python-settings.js';
import type { RecallFigures } from './search-recall.js';
import { SOAK_ROWS } from './soak-report.js';
import { mib, ms } from './stats.js';

/** The two summary tables: each figure with its target and whether it is met. */

interface Cell {
  value: string;
  /** undefined: no target. */
  met: boolean | undefined;
}

interface TargetRow {
  figure: string;
  target: string;
  /** Column name → cell. */
  values: Map<string, Cell>;
}

function proxyCell(result: EngineFigures, pick: (figures: ProxyFigures) => Cell): Cell {
  return 'error' in result.proxy ? { value: 'failed', met: false } : pick(result.proxy);
}

export function targetRows(results: EngineFigures[]): TargetRow[] {
  const row = (
    figure: string,
    target: string,
    pick: (result: EngineFigures) => { value: string; met: boolean | undefined },
  ): TargetRow => ({
    figure,
    target,
    values: new Map(results.map((result) => [result.engine.kind, pick(result)])),
  });
  return [
    row('warm p50', `≤ ${TARGETS.warmP50RequiredMs} ms (required)`, (r) => ({
      value: ms(r.warm.all.p50),
      met: r.warm.all.p50 <= TARGETS.warmP50RequiredMs,
    })),
    row('warm p50', `≤ ${TARGETS.warmP50AimMs} ms (aim)`, (r) => ({
      value: ms(r.warm.all.p50),
      met: r.warm.all.p50 <= TARGETS.warmP50AimMs,
    })),
    row('warm p99', '—', (r) => ({ value: ms(r.warm.all.p99), met: undefined })),
    row('warm p50, steady state', '—', (r) => ({
      value: ms(r.throughput.latency.p50),
      met: undefined,
    })),
    row('per-call p50', '—', (r) => ({
      value: ms(r.baseline.withWait.total.p50),
      met: undefined,
    })),
    row('per-call / warm p50', `≥ ${TARGETS.ratioRequired}× (required)`, (r) => ({
      value: `${r.ratioBaselineToWarmP50.toFixed(0)}×`,
      met: r.ratioBaselineToWarmP50 >= TARGETS.ratioRequired,
    })),
    row('fastest per-call variant / warm p50', `≥ ${TARGETS.ratioRequired}×`, (r) => ({
      value: `${r.ratioFastestPerCallToWarmP50.toFixed(0)}×`,
      met: r.ratioFastestPerCallToWarmP50 >= TARGETS.ratioRequired,
    })),
    row('first call (median)', `≤ ${TARGETS.firstCallAimMs} ms (aim)`, (r) => ({
      value: ms(r.cold.median.firstCallMs),
      met: r.cold.median.firstCallMs <= TARGETS.firstCallAimMs,
    })),
    row('spawn → first result', '—', (r) => ({ value: ms(r.cold.median.totalMs), met: undefined })),
    row('50 MB write → result', '—', (r) => ({
      value: ms(r.flood.runs[0]?.ms ?? Number.NaN),
      met: undefined,
    })),
    row('1 M prints → result', '—', (r) => ({
      value: ms(r.flood.runs[1]?.ms ?? Number.NaN),
      met: undefined,
    })),
    row('bridge VmHWM before → after floods', '—', (r) => ({
      value: `${mib(r.flood.memoryBefore.vmHwmKiB)} → ${mib(r.flood.runs.at(-1)?.memoryAfter.vmHwmKiB)}`,
      met: undefined,
    })),
    row('throughput', '—', (r) => ({
      value: `${r.throughput.callsPerSecond.toFixed(0)} calls/s`,
      met: undefined,
    })),
    row('proxied echo p50 (in the sandbox)', '—', (r) =>
      proxyCell(r, (p) => ({ value: ms(p.proxied.echo.p50), met: undefined })),
    ),
    row('proxied echo p50, stdio channel', '—', (r) =>
      proxyCell(r, (p) => ({ value: ms(p.proxiedStdio.echo.p50), met: undefined })),
    ),
    row('direct SDK echo p50', '—', (r) =>
      proxyCell(r, (p) => ({ value: ms(p.direct.sdk.p50), met: undefined })),
    ),
    row('proxied / direct p50', `≤ ${TARGETS.proxiedToDirectP50Max}×`, (r) =>
      proxyCell(r, (p) => ({
        value: `${p.ratioProxiedToDirectP50.toFixed(2)}×`,
        met: p.ratioProxiedToDirectP50 <= TARGETS.proxiedToDirectP50Max,
      })),
    ),
    row('floor: (direct + RPC hop) / direct', '—', (r) =>
      proxyCell(r, (p) => ({ value: `${p.ratioFloor.toFixed(2)}×`, met: undefined })),
    ),
    row('sequential proxied calls', `≥ ${TARGETS.proxiedCallsPerSecondMin}/s`, (r) =>
      proxyCell(r, (p) => ({
        value: `${p.proxied.sequential.callsPerSecond.toFixed(0)}/s`,
        met: p.proxied.sequential.callsPerSecond >= TARGETS.proxiedCallsPerSecondMin,
      })),
    ),
    row(
      `${SETTINGS.proxy.concurrent} concurrent proxied calls (median)`,
      'all right, in order',
      (r) =>
        proxyCell(r, (p) => ({
          value: `${ms(p.proxied.concurrent.medianMs)}, ${p.proxied.concurrent.allCorrect ? 'all right' : 'WRONG'}`,
          met: p.proxied.concurrent.allCorrect,
        })),
    ),
    row('cancel → next result p50, interrupted', '—', (r) => ({
      value: 'error' in r.cancel ? 'failed' : ms(r.cancel.interruptible.p50),
      met: 'error' in r.cancel ? false : undefined,
    })),
    row('cancel → next result p50, killed and replaced', '—', (r) => ({
      value: 'error' in r.cancel ? 'failed' : ms(r.cancel.ignoring.p50),
      met: 'error' in r.cancel ? false : undefined,
    })),
    row('warm p50 / MCP ping p50', `≤ ${TARGETS.warmToPingMax}×`, (r) => {
      const ratio = r.warm.all.p50 / r.warm.mcpPing.p50;
      return { value: `${ratio.toFixed(2)}×`, met: ratio <= TARGETS.warmToPingMax };
    }),
    row(
      `warm p50 where ping ≤ ${TARGETS.fastPingMs} ms`,
      `≤ ${TARGETS.warmP50WithFastPingMs} ms`,
      (r) =>
        r.warm.mcpPing.p50 > TARGETS.fastPingMs
          ? { value: `ping ${ms(r.warm.mcpPing.p50)}`, met: undefined }
          : { value: ms(r.warm.all.p50), met: r.warm.all.p50 <= TARGETS.warmP50WithFastPingMs },
    ),
    row('first call at once after initialize', `≤ ${TARGETS.firstAtOnceMs} ms`, (r) => ({
      value: ms(r.firstCalls.atOnceP50),
      met: r.firstCalls.atOnceP50 <= TARGETS.firstAtOnceMs,
    })),
    row(
      'first call 1 s after initialize / warm p50',
      `≤ ${TARGETS.firstAfterPauseToWarmMax}×`,
      (r) => {
        const ratio = r.firstCalls.afterPauseP50 / r.warm.all.p50;
        return {
          value: `${ms(r.firstCalls.afterPauseP50)} = ${ratio.toFixed(1)}×`,
          met: ratio <= TARGETS.firstAfterPauseToWarmMax,
        };
      },
    ),
    row('proxied p50, calls 1–100 / 901–1000', `≤ ${TARGETS.proxiedFirstToSteadyMax}×`, (r) =>
      proxyCell(r, (p) => {
        const ratio = p.proxied.first100.p50 / p.proxied.calls901to1000.p50;
        return { value: `${ratio.toFixed(2)}×`, met: ratio <= TARGETS.proxiedFirstToSteadyMax };
      }),
    ),
    row('proxied p50 / (direct p50 + hop p50)', `≤ ${TARGETS.proxiedToFloorMax}×`, (r) =>
      proxyCell(r, (p) => {
        const ratio = p.proxied.echo.p50 / (p.direct.sdk.p50 + p.proxied.rpcHop.p50);
        return { value: `${ratio.toFixed(2)}×`, met: ratio <= TARGETS.proxiedToFloorMax };
      }),
    ),
    row('bridge RSS, no servers (sandbox up)', `≤ ${TARGETS.rssNoServersMiB} MiB`, (r) =>
      'error' in r.memory
        ? { value: 'failed', met: false }
        : {
            value: `${r.memory.noServersMiB.toFixed(1)} MiB`,
            met: r.memory.noServersMiB <= TARGETS.rssNoServersMiB,
          },
    ),
    row('bridge RSS, 7 real servers warm; per client', '—', (r) =>
      'error' in r.memory
        ? { value: 'failed', met: false }
        : {
            value: `${r.memory.withServersMiB.toFixed(1)} MiB; ${r.memory.perServerMiB.toFixed(2)} MiB`,
            met: undefined,
          },
    ),
    ...[2, 4].map((count) =>
      row(`${count} sessions in parallel, CPU-bound cells / one session`, '— (2 cores)', (r) => {
        if ('error' in r.sessions) return { value: 'failed', met: false };
        const round = r.sessions.rounds.find((each) => each.sessions === count);
        return { value: round ? `${round.ratio.toFixed(2)}×` : '?', met: undefined };
      }),
    ),
    row('4 sessions in parallel, 0.5 s sleeps / one session', '—', (r) => {
      if ('error' in r.sessions) return { value: 'failed', met: false };
      const round = r.sessions.sleepRounds.find((each) => each.sessions === 4);
      return { value: round ? `${round.ratio.toFixed(2)}×` : '?', met: undefined };
    }),
    row('memory per extra session (container + bridge)', '—', (r) =>
      'error' in r.sessions
        ? { value: 'failed', met: false }
        : { value: `${r.sessions.perExtraSessionMiB.toFixed(1)} MiB`, met: undefined },
    ),
    ...SOAK_ROWS.map((soakRow) => row(soakRow.figure, soakRow.target, (r) => soakRow.cell(r.soak))),
    row('wrong results', '0', (r) => ({
      value: String(r.failures.count),
      met: r.failures.count === 0,
    })),
    row('leftover containers', '0', (r) => ({
      value: String(r.leftoverContainers.ours.length),
      met: r.leftoverContainers.ours.length === 0,
    })),
  ];
}

export function runRows(run: RunFigures): TargetRow[] {
  const row = (figure: string, target: string, value: Cell): TargetRow => ({
    figure,
    target,
    values: new Map([['value', value]]),
  });
  const counts = SETTINGS.toolsListServers.join(' / ');
  const list = run.toolsList;
  const recall = run.searchRecall;
  const tuned = recall.queries - recall.heldOutQueries;
  const recallRows = (what: string, figures: RecallFigures, targeted: boolean): TargetRow[] => [
    row(`${what} recall@1, tuned (${tuned})`, targeted ? `≥ ${pct(TARGETS.recallAt1Min)}` : '—', {
      value: pct(figures.recallAt1),
      met: targeted ? figures.recallAt1 >= TARGETS.recallAt1Min : undefined,
    }),
    row(`${what} recall@5, tuned`, targeted ? `≥ ${pct(TARGETS.recallAt5Min)}` : '—', {
      value: pct(figures.recallAt5),
      met: targeted ? figures.recallAt5 >= TARGETS.recallAt5Min : undefined,
    }),
    row(
      `${what} recall@1, held out (${recall.heldOutQueries})`,
      targeted ? `≥ ${pct(TARGETS.recallAt1Min)}` : '—',
      {
        value: pct(figures.heldOutRecallAt1),
        met: targeted ? figures.heldOutRecallAt1 >= TARGETS.recallAt1Min : undefined,
      },
    ),
    row(`${what} recall@5, held out`, targeted ? `≥ ${pct(TARGETS.recallAt5Min)}` : '—', {
      value: pct(figures.heldOutRecallAt5),
      met: targeted ? figures.heldOutRecallAt5 >= TARGETS.recallAt5Min : undefined,
    }),
  ];
  return [
    'error' in list
      ? row(`tools/list at ${counts} servers`, 'measured', { value: 'failed', met: false })
      : row(
          `tools/list at ${counts} servers (chars/4)`,
          `≤ ${TARGETS.toolsListTokensMax} tokens, identical`,
          {
            value:
              `${list.sizes.map((size) => size.estimatedTokens).join(' / ')} tokens` +
              (list.identical ? ', identical' : ', DIFFERENT'),
            met:
              list.identical &&
              list.sizes.every((size) => size.estimatedTokens <= TARGETS.toolsListTokensMax),
          },
        ),
    ...recallRows('search', recall, true),
    ...recallRows("original's", recall.original, false),
  ];
}

export function printTable(title: string, columns: string[], rows: TargetRow[]): void {
  const cell = (entry: Cell | undefined) =>
    entry === undefined
      ? ''
      : `${entry.value}${entry.met === undefined ? '' : entry.met ? '  met' : '  NOT MET'}`;
  const table = [
    ['figure', 'target', ...columns],
    ...rows.map((row) => [
      row.figure,
      row.target,
      ...columns.map((column) => cell(row.values.get(column))),
    ]),
  ];
  const widths = table[0]?.map((_, column) =>
    Math.max(...table.map((line) => [...(line[column] ?? '')].length)),
  );
  log(`\n=== ${title} ===`);
  for (const [index, line] of table.entries()) {
    log(
      line
        .map((text, column) => text.padEnd(widths?.[column] ?? 0))
        .join('  │  ')
        .trimEnd(),
    );
    if (index === 0) {
      log((widths ?? []).map((width) => '─'.repeat(width)).join('──┼──'));
    }
  }
}
