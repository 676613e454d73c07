import { LABELS } from '../src/container/labels.js';
import { baseline } from './baseline-section.js';
import { cancelLatency, describeCancel, type CancelFigures } from './cancel-bench.js';
import { errorText, loadAverage, log } from './bench-output.js';
import {
  coldStart,
  Failures,
  openBridge,
  outputFlood,
  throughput,
  warmRoundTrips,
  type FloodFigures,
  type ThroughputFigures,
  type WarmFigures,
} from './bridge-bench.js';
import { managedContainers, type BenchEngine } from './engines.js';
import { figureCalls, type FigureFigures } from './figures-bench.js';
import { cpuTimes, cpuUsage } from './proc-status.js';
import { bridgeMemory, firstCalls, type MemoryFigures } from './perf-section.js';
import { proxy } from './proxy-section.js';
import { measureStages, type StageFigures } from './stage-timing.js';
import type { EngineFigures, PerCallFigures } from './run-python-figures.js';
import { SETTINGS } from './run-python-settings.js';
import { describeSessions, sessionScaling, type SessionFigures } from './sessions-bench.js';
import { soak, type SoakFigures } from './soak-bench.js';
import { describeSoak } from './soak-report.js';
import { describeSummary, mib, ms } from './stats.js';

/** Every figure of one engine, printed as measured. */

export async function benchEngine(engine: BenchEngine, image: string): Promise<EngineFigures> {
  const started = performance.now();
  const loadAverageBefore = loadAverage();
  const cpuBefore = cpuTimes();
  const failures = new Failures();
  const ownerPids = new Set<string>([String(process.pid)]);

  log(`\n=== ${engine.kind} ${engine.version} (${engine.source}=${engine.dockerHost}) ===`);
  log(`load average before: ${loadAverageBefore.join(' ')}`);

  const cold = await coldStart(engine.dockerHost, image, SETTINGS.coldRuns, failures);
  for (const run of cold.runs) ownerPids.add(String(run.pid));
  log(`\ncold start, ${cold.runs.length} runs (spawn → initialize → first run_python result):`);
  log(
    `    median total ${ms(cold.median.totalMs)} = initialize ${ms(cold.median.initializeMs)}` +
      ` + first call ${ms(cold.median.firstCallMs)}`,
  );
  log(`    first call per run: ${cold.runs.map((run) => ms(run.firstCallMs)).join(', ')}`);
  log(
    `    first call, from the bridge's log (medians): waiting for engine detection` +
      ` ${ms(cold.median.engineWaitMs)}, sandbox start (create → ready) ${ms(cold.median.sandboxStartMs)}`,
  );
  log(`    initialize per run: ${cold.runs.map((run) => ms(run.initializeMs)).join(', ')}`);
  log(
    `    close (stdin closed → bridge exited, container removed): median ${ms(cold.median.closeMs)};` +
      ` exited on stdin close alone: ${cold.runs.filter((run) => run.exitedOnStdinClose).length}/${cold.runs.length}`,
  );

  const first = await firstCalls(
    engine.dockerHost,
    image,
    { runs: SETTINGS.firstCallRuns, pauseMs: SETTINGS.firstCallPauseMs },
    failures,
  );
  log(
    `\nfirst call with the sandbox started at initialize (spawn → initialize → [pause] → print(1)),` +
      ` ${first.atOnceMs.length} runs each:`,
  );
  log(
    `    at once:   ${first.atOnceMs.map((value) => ms(value)).join(', ')}; median ${ms(first.atOnceP50)}`,
  );
  log(
    `    after ${SETTINGS.firstCallPauseMs} ms: ${first.afterPauseMs.map((value) => ms(value)).join(', ')};` +
      ` median ${ms(first.afterPauseP50)}; the bridge's pre-warm took ${ms(first.prewarmP50)} (median)`,
  );

  const bridge = await openBridge(engine.dockerHost, image);
  ownerPids.add(String(bridge.pid));
  let warm: WarmFigures;
  let rate: ThroughputFigures;
  let flood: FloodFigures;
  let figures: FigureFigures | { error: string };
  try {
    warm = await warmRoundTrips(
      bridge,
      {
        calls: SETTINGS.warmCalls,
        blocks: SETTINGS.warmBlocks,
        warmup: SETTINGS.warmupCalls,
        pings: SETTINGS.mcpPings,
      },
      failures,
    );
    log(
      `\nwarm run_python round trip, ${warm.all.count} calls after ${warm.warmupCalls} warm-up` +
        ` (alternating \`pass\` / \`print(1)\`):`,
    );
    log(`    all:      ${describeSummary(warm.all)}`);
    log(`    pass:     ${describeSummary(warm.byCode.pass)}`);
    log(`    print(1): ${describeSummary(warm.byCode.printOne)}`);
    log(
      `    p50 of each block of ${Math.ceil(SETTINGS.warmCalls / SETTINGS.warmBlocks)} calls: ` +
        warm.blockP50s.map((value) => ms(value)).join(', '),
    );
    log(`    MCP ping alone (no container): ${describeSummary(warm.mcpPing)}`);

    rate = await throughput(bridge, SETTINGS.throughputSeconds, failures);
    log(
      `\nthroughput: ${rate.calls} sequential \`pass\` calls in ${rate.seconds.toFixed(2)} s` +
        ` = ${rate.callsPerSecond.toFixed(0)} calls/s`,
    );
    log(`    their round trips (steady state): ${describeSummary(rate.latency)}`);

    flood = await outputFlood(bridge, failures);
    log(
      `\noutput flood (bridge VmHWM before: ${mib(flood.memoryBefore.vmHwmKiB)},` +
        ` VmRSS ${mib(flood.memoryBefore.vmRssKiB)}):`,
    );
    for (const run of flood.runs) {
      log(
        `    ${run.name}: result in ${ms(run.ms)}, status ${run.status ?? '?'},` +
          ` ${run.responseChars.toLocaleString('en-US')} chars returned,` +
          ` truncation marker ${run.truncationMarker ? 'yes' : 'NO'};` +
          ` VmHWM after ${mib(run.memoryAfter.vmHwmKiB)}, VmRSS ${mib(run.memoryAfter.vmRssKiB)}`,
      );
    }
    log(
      `    print(1) right after: ${ms(flood.afterFloodCallMs)} (${flood.afterFloodOk ? 'ok' : 'WRONG RESULT'})`,
    );

    try {
      figures = await figureCalls(bridge, SETTINGS.figureCalls, failures);
      log(`\nfigures: one 800×600 matplotlib figure per call, warm, pyplot imported:`);
      log(`    call → result: ${describeSummary(figures.figure)}`);
      log(
        `    returned: PNG ${figures.pngBytes.toLocaleString('en-US')} bytes,` +
          ` result ${figures.resultBytes.toLocaleString('en-US')} bytes of JSON`,
      );
      log(`    \`pass\` before matplotlib was imported: ${describeSummary(figures.passBefore)}`);
      log(
        `    \`pass\` after pyplot was imported:      ${describeSummary(figures.passAfterPyplot)}`,
      );
    } catch (error: unknown) {
      log(`\nfigures: could not measure: ${errorText(error)}`);
      figures = { error: errorText(error) };
    }
  } finally {
    await bridge.close();
  }

  let stages: StageFigures | { error: string };
  try {
    stages = await measureStages(
      engine.dockerHost,
      image,
      { calls: SETTINGS.stageCalls, warmup: SETTINGS.warmupCalls },
      failures,
    );
    log(
      `\nwarm call by stage (MCP_BRIDGE_TIMING=1; median of ${stages.calls} calls; the bridge's` +
        ` view ${ms(stages.bridgeTotalP50Ms)}, the client's ${ms(stages.clientP50Ms)}):`,
    );
    for (const step of stages.steps) log(`    ${step.step.padEnd(64)} ${ms(step.p50Ms)}`);
  } catch (error: unknown) {
    log(`\nwarm call by stage: could not measure: ${errorText(error)}`);
    stages = { error: errorText(error) };
  }

  const proxyFigures = await proxy(engine, image, failures, ownerPids);

  let cancel: CancelFigures | { error: string };
  try {
    cancel = await cancelLatency(engine.dockerHost, image, SETTINGS.cancel);
    log('');
    for (const line of describeCancel(cancel)) log(line);
  } catch (error: unknown) {
    log(`\ncancel latency: could not measure: ${errorText(error)}`);
    cancel = { error: errorText(error) };
  }

  let memory: MemoryFigures | { error: string };
  try {
    memory = await bridgeMemory(
      engine.dockerHost,
      image,
      { servers: SETTINGS.memoryServers },
      failures,
    );
    log(
      `\nbridge memory (VmRSS after 5 calls; after a full GC): no servers ${memory.noServersMiB.toFixed(1)} MiB` +
        ` (${memory.noServersAfterGcMiB.toFixed(1)}; JS heap ${memory.heapNoServersMiB.toFixed(1)});` +
        ` ${memory.servers} real servers started and listed ${memory.withServersMiB.toFixed(1)} MiB` +
        ` (${memory.withServersAfterGcMiB.toFixed(1)}); per upstream client ${memory.perServerMiB.toFixed(2)} MiB`,
    );
  } catch (error: unknown) {
    log(`\nbridge memory: could not measure: ${errorText(error)}`);
    memory = { error: errorText(error) };
  }

  let sessions: SessionFigures | { error: string };
  try {
    sessions = await sessionScaling(engine.dockerHost, image, failures);
    log('');
    for (const line of describeSessions(sessions)) log(line);
  } catch (error: unknown) {
    log(`\nnamed sessions: could not measure: ${errorText(error)}`);
    sessions = { error: errorText(error) };
  }

  let soakFigures: SoakFigures | { error: string };
  try {
    const onBridge = (pid: number): void => void ownerPids.add(String(pid));
    soakFigures = await soak(
      engine.dockerHost,
      engine.docker,
      image,
      SETTINGS.soak,
      failures,
      onBridge,
    );
    for (const line of describeSoak(soakFigures)) log(line);
  } catch (error: unknown) {
    log(`\nsoak: could not measure: ${errorText(error)}`);
    soakFigures = { error: errorText(error) };
  }

  const base = await baseline(engine, image);
  const cliP50 =
    base.podmanCli && !('error' in base.podmanCli)
      ? base.podmanCli.total.p50
      : Number.POSITIVE_INFINITY;
  const ratio = base.withWait.total.p50 / warm.all.p50;
  const fastestPerCallP50 = Math.min(base.withWait.total.p50, base.streamEnd.total.p50, cliP50);
  const conservativeRatio = fastestPerCallP50 / warm.all.p50;
  log(`\nbaseline: a hardened container per call, \`python3 -c 'print(1)'\`, same create options`);
  log(`    as the bridge's sandbox, through the same engine API, ${base.withWait.runs} runs each:`);
  const describePerCall = (title: string, figures: PerCallFigures): void => {
    log(`    ${title}`);
    log(`      ${describeSummary(figures.total)}`);
    log(
      `      step medians: create ${ms(figures.stepsP50.createMs)}, attach+start ${ms(figures.stepsP50.attachStartMs)},` +
        ` to exit/output end ${ms(figures.stepsP50.runMs)}, remove ${ms(figures.stepsP50.removeMs)}` +
        (figures.badOutputs > 0 ? `; ${figures.badOutputs} runs printed the wrong thing` : ''),
    );
  };
  describePerCall(
    'create, attach, start, wait for exit status, read output, remove:',
    base.withWait,
  );
  describePerCall(
    'same without waiting for the exit status (output end, then remove):',
    base.streamEnd,
  );
  if (base.podmanCli) {
    if ('error' in base.podmanCli) {
      log(`    \`podman run --rm\` CLI: failed: ${base.podmanCli.error}`);
    } else {
      log(`    \`podman run --rm <same flags>\` CLI, ${base.podmanCli.runs} runs:`);
      log(`      ${describeSummary(base.podmanCli.total)}`);
    }
  }
  log(
    `    ratio per-call p50 / warm p50: ${ratio.toFixed(0)}×` +
      ` (fastest per-call variant: ${conservativeRatio.toFixed(0)}×)`,
  );

  const managed = await managedContainers(engine.docker);
  const ours = managed.filter((container) => ownerPids.has(container.ownerPid ?? ''));
  log(
    `\nleftover containers labelled ${LABELS.managed}=true: ${ours.length} from this run` +
      `, ${managed.length} in total on ${engine.kind}`,
  );
  for (const container of ours) {
    log(`    LEFTOVER ${container.id} role=${container.role ?? '?'} state=${container.state}`);
  }
  if (failures.count > 0) {
    log(`\n${failures.count} calls returned something other than what they should:`);
    for (const example of failures.examples) log(`    ${example}`);
  }
  const loadAverageAfter = loadAverage();
  const cpu = cpuUsage(cpuBefore, cpuTimes());
  const seconds = (performance.now() - started) / 1000;
  log(
    `load average after: ${loadAverageAfter.join(' ')}; ${engine.kind} took ${seconds.toFixed(1)} s` +
      (cpu
        ? `; CPUs busy ${cpu.busyPercent.toFixed(0)}% of the time, ${cpu.stealPercent.toFixed(1)}% stolen by the hypervisor`
        : ''),
  );

  return {
    engine: {
      kind: engine.kind,
      version: engine.version,
      source: engine.source,
      dockerHost: engine.dockerHost,
    },
    loadAverageBefore,
    loadAverageAfter,
    cpu,
    seconds,
    cold,
    warm,
    throughput: rate,
    flood,
    figures,
    proxy: proxyFigures,
    cancel,
    soak: soakFigures,
    sessions,
    firstCalls: first,
    stages,
    memory,
    baseline: base,
    ratioBaselineToWarmP50: ratio,
    ratioFastestPerCallToWarmP50: conservativeRatio,
    failures: { count: failures.count, examples: failures.examples },
    leftoverContainers: {
      ours: ours.map((container) => container.id),
      managedTotal: managed.length,
    },
  };
}
