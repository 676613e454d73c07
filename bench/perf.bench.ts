/**
 * `npx tsx bench/perf.bench.ts` (after `npm run build`): issue 11's figures alone, per
 * engine, each with its target and met / NOT MET (bench/README.md, "Start, warm call,
 * memory"). With BENCH_BEFORE_BIN=<another build's dist/src/main.js> every figure is
 * measured on that build too, in the same run (interleaved where it matters), for a
 * before/after table. PERF_BENCH_ONLY=first,warm,stages,proxy,proxystages,memory picks sections.
 */
import { errorText, log } from './bench-output.js';
import { Failures } from './bridge-bench.js';
import { BenchSetupError, benchEngines, type BenchEngine } from './engines.js';
import { bridgeMemory, firstCalls, warmAgainstPing } from './perf-section.js';
import { directCalls, proxiedCalls } from './proxy-bench.js';
import { SETTINGS, TARGETS } from './run-python-settings.js';
import { measureProxyStages } from './proxy-stages.js';
import { measureStages } from './stage-timing.js';
import { ms } from './stats.js';

const SECTIONS = new Set(
  (process.env.PERF_BENCH_ONLY ?? 'first,warm,stages,proxy,proxystages,memory')
    .split(',')
    .map((s) => s.trim()),
);
const BEFORE = process.env.BENCH_BEFORE_BIN?.trim() || undefined;

interface Row {
  figure: string;
  target: string;
  before?: string;
  after: string;
  met?: boolean;
}

const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'NOT MET');
const x = (value: number) => `${value.toFixed(2)}×`;
const mib = (value: number) => `${value.toFixed(1)} MiB`;

async function benchEngine(engine: BenchEngine, image: string): Promise<Row[]> {
  const rows: Row[] = [];
  const failures = new Failures();
  const host = engine.dockerHost;
  log(`\n=== ${engine.kind} ${engine.version} ===`);
  let warmP50 = Number.NaN;
  let beforeWarmP50 = Number.NaN;

  if (SECTIONS.has('warm') || SECTIONS.has('first')) {
    const bins = BEFORE ? [undefined, BEFORE] : [undefined];
    const [after, before] = await warmAgainstPing(
      host,
      image,
      bins,
      { warmup: 50, blocks: 5, block: 100 },
      failures,
    );
    if (after) {
      warmP50 = after.warm.p50;
      log(
        `warm: p50 ${ms(after.warm.p50)} (p90 ${ms(after.warm.p90)}), ping p50 ${ms(after.ping.p50)}, ratio ${x(after.ratio)}`,
      );
      if (before) {
        beforeWarmP50 = before.warm.p50;
        log(
          `  before: warm p50 ${ms(before.warm.p50)}, ping p50 ${ms(before.ping.p50)}, ratio ${x(before.ratio)}`,
        );
      }
      rows.push({
        figure: 'warm p50',
        target: '—',
        after: ms(after.warm.p50),
        ...(before ? { before: ms(before.warm.p50) } : {}),
      });
      rows.push({
        figure: 'MCP ping p50',
        target: '—',
        after: ms(after.ping.p50),
        ...(before ? { before: ms(before.ping.p50) } : {}),
      });
      rows.push({
        figure: 'warm p50 / ping p50',
        target: `≤ ${TARGETS.warmToPingMax}×`,
        after: x(after.ratio),
        ...(before ? { before: x(before.ratio) } : {}),
        met: after.ratio <= TARGETS.warmToPingMax,
      });
      if (after.ping.p50 <= TARGETS.fastPingMs) {
        rows.push({
          figure: `warm p50 (ping ≤ ${TARGETS.fastPingMs} ms)`,
          target: `≤ ${TARGETS.warmP50WithFastPingMs} ms`,
          after: ms(after.warm.p50),
          met: after.warm.p50 <= TARGETS.warmP50WithFastPingMs,
        });
      }
    }
  }

  if (SECTIONS.has('first')) {
    const runs = 5;
    const after = await firstCalls(host, image, { runs, pauseMs: 1000 }, failures);
    const before = BEFORE
      ? await firstCalls(host, image, { runs, pauseMs: 1000, bin: BEFORE }, failures)
      : undefined;
    log(
      `first call at once: ${after.atOnceMs.map(ms).join(', ')}; after 1 s: ${after.afterPauseMs.map(ms).join(', ')}; pre-warm (bridge log) p50 ${ms(after.prewarmP50)}`,
    );
    if (before)
      log(
        `  before: at once ${before.atOnceMs.map(ms).join(', ')}; after 1 s ${before.afterPauseMs.map(ms).join(', ')}`,
      );
    rows.push({
      figure: 'first call, at once after initialize',
      target: `≤ ${TARGETS.firstAtOnceMs} ms`,
      after: ms(after.atOnceP50),
      ...(before ? { before: ms(before.atOnceP50) } : {}),
      met: after.atOnceP50 <= TARGETS.firstAtOnceMs,
    });
    const ratio = after.afterPauseP50 / warmP50;
    rows.push({
      figure: 'first call 1 s after initialize / warm p50',
      target: `≤ ${TARGETS.firstAfterPauseToWarmMax}×`,
      after: `${ms(after.afterPauseP50)} = ${x(ratio)}`,
      ...(before
        ? { before: `${ms(before.afterPauseP50)} = ${x(before.afterPauseP50 / beforeWarmP50)}` }
        : {}),
      met: ratio <= TARGETS.firstAfterPauseToWarmMax,
    });
  }

  if (SECTIONS.has('stages')) {
    const stages = await measureStages(host, image, { calls: 300, warmup: 50 }, failures);
    log(
      `warm call by stage (MCP_BRIDGE_TIMING=1, median of ${stages.calls} calls; bridge total ${ms(stages.bridgeTotalP50Ms)}, client saw ${ms(stages.clientP50Ms)}):`,
    );
    for (const step of stages.steps) log(`    ${step.step.padEnd(64)} ${ms(step.p50Ms)}`);
  }

  if (SECTIONS.has('proxy')) {
    const settings = { ...SETTINGS.proxy, warmup: 1000, calls: 1000 };
    try {
      const onBridge = (): void => undefined;
      const after = await proxiedCalls(host, image, settings, failures, onBridge);
      const before = BEFORE
        ? await proxiedCalls(host, image, settings, failures, onBridge, 'auto', BEFORE)
        : undefined;
      const direct = await directCalls(settings, failures);
      const describe = (p: typeof after) => {
        const warmup = p.first100.p50 / p.calls901to1000.p50;
        const floor = direct.sdk.p50 + p.rpcHop.p50;
        return { warmup, floor, toFloor: p.echo.p50 / floor };
      };
      const a = describe(after);
      const b = before ? describe(before) : undefined;
      log(
        `proxied: calls 1–100 p50 ${ms(after.first100.p50)}, 901–1000 ${ms(after.calls901to1000.p50)}; steady p50 ${ms(after.echo.p50)}; floor ${ms(a.floor)} (direct ${ms(direct.sdk.p50)} + hop ${ms(after.rpcHop.p50)})`,
      );
      if (before && b)
        log(
          `  before: 1–100 ${ms(before.first100.p50)}, 901–1000 ${ms(before.calls901to1000.p50)}; steady ${ms(before.echo.p50)}; hop ${ms(before.rpcHop.p50)}`,
        );
      rows.push({
        figure: 'proxied p50, calls 1–100 / 901–1000',
        target: `≤ ${TARGETS.proxiedFirstToSteadyMax}×`,
        after: x(a.warmup),
        ...(b ? { before: x(b.warmup) } : {}),
        met: a.warmup <= TARGETS.proxiedFirstToSteadyMax,
      });
      rows.push({
        figure: 'proxied p50 / (direct p50 + hop p50)',
        target: `≤ ${TARGETS.proxiedToFloorMax}×`,
        after: x(a.toFloor),
        ...(b ? { before: x(b.toFloor) } : {}),
        met: a.toFloor <= TARGETS.proxiedToFloorMax,
      });
    } catch (error: unknown) {
      log(`proxied: could not measure: ${errorText(error)}`);
    }
  }

  if (SECTIONS.has('proxystages')) {
    try {
      const stages = await measureProxyStages(host, image, { calls: 1000 });
      if (stages) {
        log(
          `proxied call by stage (MCP_BRIDGE_TIMING=1, ${stages.calls} sequential calls; medians, first 100 / last 100):`,
        );
        for (const [step, first] of Object.entries(stages.first100))
          log(`    ${step.padEnd(34)} ${ms(first)} / ${ms(stages.last100[step] ?? Number.NaN)}`);
      } else log('proxied call by stage: the bridge logged no figures');
    } catch (error: unknown) {
      log(`proxied call by stage: could not measure: ${errorText(error)}`);
    }
  }

  if (SECTIONS.has('memory')) {
    const servers = 7;
    const after = await bridgeMemory(host, image, { servers }, failures);
    const before = BEFORE
      ? await bridgeMemory(host, image, { servers, bin: BEFORE }, failures)
      : undefined;
    const line = (m: typeof after) =>
      `no servers ${mib(m.noServersMiB)} (after GC ${mib(m.noServersAfterGcMiB)}, JS heap ${mib(m.heapNoServersMiB)}); ${m.servers} servers ${mib(m.withServersMiB)} (after GC ${mib(m.withServersAfterGcMiB)}); per server ${mib(m.perServerMiB)}`;
    log(`bridge memory: ${line(after)}`);
    if (before) log(`  before: ${line(before)}`);
    rows.push({
      figure: 'bridge RSS, no servers (sandbox up)',
      target: `≤ ${TARGETS.rssNoServersMiB} MiB`,
      after: mib(after.noServersMiB),
      ...(before ? { before: mib(before.noServersMiB) } : {}),
      met: after.noServersMiB <= TARGETS.rssNoServersMiB,
    });
    rows.push({
      figure: `bridge RSS, ${servers} real servers warm`,
      target: '—',
      after: mib(after.withServersMiB),
      ...(before ? { before: mib(before.withServersMiB) } : {}),
    });
    rows.push({
      figure: 'RSS per upstream client (after GC)',
      target: '—',
      after: mib(after.perServerMiB),
      ...(before ? { before: mib(before.perServerMiB) } : {}),
    });
  }
  if (failures.count > 0) log(`${failures.count} wrong results: ${failures.examples.join(' | ')}`);
  return rows;
}

function printRows(kind: string, rows: Row[]): void {
  const table = [
    ['figure', 'target', ...(BEFORE ? ['before'] : []), 'after', ''],
    ...rows.map((row) => [
      row.figure,
      row.target,
      ...(BEFORE ? [row.before ?? ''] : []),
      row.after,
      verdict(row.met),
    ]),
  ];
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => [...(line[column] ?? '')].length)),
  );
  log(`\n=== summary, ${kind} ===`);
  for (const line of table)
    log(
      line
        .map((text, column) => text.padEnd(widths[column] ?? 0))
        .join(' │ ')
        .trimEnd(),
    );
}

async function main(): Promise<void> {
  const image = process.env.MCP_BRIDGE_IMAGE?.trim() || 'localhost/mcp-sandbox:test';
  const engines = await benchEngines();
  log(
    `issue 11 figures; sections ${[...SECTIONS].join(',')}${BEFORE ? `; before = ${BEFORE}` : ''}`,
  );
  const results: [string, Row[]][] = [];
  for (const engine of engines) results.push([engine.kind, await benchEngine(engine, image)]);
  for (const [kind, rows] of results) printRows(kind, rows);
}

main().catch((error: unknown) => {
  if (error instanceof BenchSetupError) console.error(`bench: ${error.message}`);
  else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
