/**
 * `npm run bench`: run_python latency through the real MCP stdio client and the built bin,
 * against every configured engine, with a hardened per-call container as the baseline.
 * Also MCP proxying (issue 3 item 10): proxied tool calls from the sandbox against direct
 * SDK calls, tools/list size, search recall. Prints figures and whether the targets are
 * met; asserts nothing. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sandboxBlueprint } from '../src/app.js';
import { loadConfig } from '../src/config/env.js';
import { findExecutable } from '../src/container/find-executable.js';
import { LABELS } from '../src/container/labels.js';
import { REPO_ROOT } from './bridge-process.js';
import { cpuTimes, cpuUsage } from './proc-status.js';
import { perCallContainer, type PerCallSample, podmanRunArgs, podmanRunOnce } from './baseline.js';
import {
  coldStart,
  Failures,
  openBridge,
  outputFlood,
  throughput,
  warmRoundTrips,
  type ColdFigures,
  type FloodFigures,
  type ThroughputFigures,
  type WarmFigures,
} from './bridge-bench.js';
import { BenchSetupError, benchEngines, managedContainers, type BenchEngine } from './engines.js';
import {
  directCalls,
  proxiedCalls,
  toolsListSizes,
  type DirectFigures,
  type ProxiedFigures,
  type ToolsListFigures,
} from './proxy-bench.js';
import { soak, type SoakFigures } from './soak-bench.js';
import { describeSoak, SOAK_ROWS } from './soak-report.js';
import {
  loadCatalogs,
  measureSearchRecall,
  type RecallFigures,
  type SearchRecall,
} from './search-recall.js';
import { describeSummary, mib, ms, rounded, summarize, type Summary } from './stats.js';

const SETTINGS = {
  coldRuns: 5,
  warmupCalls: 20,
  warmCalls: 500,
  warmBlocks: 5,
  mcpPings: 200,
  throughputSeconds: 2,
  baselineRuns: 20,
  baselineWarmup: 1,
  podmanCliRuns: 5,
  proxy: {
    // Server and bridge keep getting faster over their first few thousand calls (JIT):
    // both sides are warmed alike, to compare steady states.
    warmup: 2000,
    calls: 1000,
    diagnosticCalls: 300,
    concurrent: 100,
    concurrentRounds: 5,
    directWarmup: 2000,
    directBlock: 100,
  },
  toolsListServers: [0, 7, 100],
  /** 1000 calls of mixed work on one bridge; memory, fds, containers sampled (soak-bench.ts). */
  soak: { calls: 1000, warmup: 200, timeoutEvery: 200 },
} as const;

const TARGETS = {
  warmP50RequiredMs: 3,
  warmP50AimMs: 1,
  ratioRequired: 50,
  firstCallAimMs: 500,
  /** Issue 3 item 10. */
  proxiedToDirectP50Max: 1.5,
  proxiedCallsPerSecondMin: 1000,
  /** Issue 3 item 8. */
  toolsListTokensMax: 250,
  /** Issue 3 item 6. */
  recallAt1Min: 0.8,
  recallAt5Min: 0.95,
} as const;

const RESULTS_FILE = path.join(REPO_ROOT, '.bench-results/run-python.json');

interface PerCallFigures {
  runs: number;
  total: Summary;
  /** Medians of the steps, to show where a per-call container's time goes. */
  stepsP50: { createMs: number; attachStartMs: number; runMs: number; removeMs: number };
  /** Runs that did not print exactly "1" (or, waiting, did not exit 0). */
  badOutputs: number;
}

interface BaselineFigures {
  /** Create, attach, start, wait for the exit status, read output, remove (the spec's baseline). */
  withWait: PerCallFigures;
  /** The same without waiting for the exit status: stream end, then remove. */
  streamEnd: PerCallFigures;
  podmanCli?: { runs: number; total: Summary; badOutputs: number } | { error: string };
}

interface ProxyFigures {
  proxied: ProxiedFigures;
  /** The same with MCP_BRIDGE_CHANNEL=stdio: frames through the engine's attach stream. */
  proxiedStdio: ProxiedFigures;
  direct: DirectFigures;
  /** Proxied p50 / direct SDK p50: the ≤ 1.5× target. */
  ratioProxiedToDirectP50: number;
  /** (direct p50 + RPC hop p50) / direct p50: the best ratio any bridge could reach. */
  ratioFloor: number;
  /** How long the whole section took. */
  seconds: number;
}

/** Measured once per run, engine-independent. */
interface RunFigures {
  toolsList: ToolsListFigures | { error: string };
  searchRecall: SearchRecall;
  seconds: number;
}

interface EngineFigures {
  engine: { kind: string; version: string; source: string; dockerHost: string };
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** All CPUs over this engine's run: busy share, and time stolen by the hypervisor. */
  cpu: { busyPercent: number; stealPercent: number } | undefined;
  seconds: number;
  cold: ColdFigures;
  warm: WarmFigures;
  throughput: ThroughputFigures;
  flood: FloodFigures;
  /** Proxied MCP calls against direct ones; `error` when they could not be measured. */
  proxy: ProxyFigures | { error: string };
  soak: SoakFigures | { error: string };
  baseline: BaselineFigures;
  /** Per-call (with wait) p50 / warm p50: the required ≥ 50×. */
  ratioBaselineToWarmP50: number;
  /** The fastest per-call variant measured (API without wait, CLI) / warm p50. */
  ratioFastestPerCallToWarmP50: number;
  failures: { count: number; examples: string[] };
  leftoverContainers: { ours: string[]; managedTotal: number };
}

function log(line = ''): void {
  console.log(line);
}

function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

function perCallFigures(samples: PerCallSample[]): PerCallFigures {
  const p50 = (pick: (sample: PerCallSample) => number) => summarize(samples.map(pick)).p50;
  return {
    runs: samples.length,
    total: summarize(samples.map((sample) => sample.totalMs)),
    stepsP50: {
      createMs: p50((sample) => sample.createMs),
      attachStartMs: p50((sample) => sample.attachStartMs),
      runMs: p50((sample) => sample.runMs),
      removeMs: p50((sample) => sample.removeMs),
    },
    badOutputs: samples.filter(
      (sample) =>
        sample.stdout !== '1\n' || (sample.exitCode !== undefined && sample.exitCode !== 0),
    ).length,
  };
}

async function baseline(engine: BenchEngine, image: string): Promise<BaselineFigures> {
  // The bridge's own blueprint from the bridge's own config: the same hardening, the same
  // seccomp profile, the same limits; only the command and the role label differ.
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-baseline-'));
  try {
    const config = loadConfig({
      DOCKER_HOST: engine.dockerHost,
      MCP_BRIDGE_IMAGE: image,
      MCP_BRIDGE_STATE_DIR: stateDir,
    });
    const options = sandboxBlueprint(config, engine.kind, engine.dockerHost).createOptions([
      'python3',
      '-c',
      'print(1)',
    ]);
    options.Labels = { ...options.Labels, [LABELS.role]: 'bench-baseline' };

    for (let index = 0; index < SETTINGS.baselineWarmup; index += 1) {
      await perCallContainer(engine.docker, options, 'wait');
    }
    // Interleaved, so that drift in the machine's load hits both variants alike.
    const withWait: PerCallSample[] = [];
    const streamEnd: PerCallSample[] = [];
    for (let index = 0; index < SETTINGS.baselineRuns; index += 1) {
      withWait.push(await perCallContainer(engine.docker, options, 'wait'));
      streamEnd.push(await perCallContainer(engine.docker, options, 'stream-end'));
    }
    const figures: BaselineFigures = {
      withWait: perCallFigures(withWait),
      streamEnd: perCallFigures(streamEnd),
    };

    const podman = engine.kind === 'podman' ? findExecutable('podman') : undefined;
    if (podman) {
      try {
        const args = podmanRunArgs(options);
        await podmanRunOnce(podman, args); // warm-up, not counted
        const cli: { ms: number; stdout: string }[] = [];
        for (let index = 0; index < SETTINGS.podmanCliRuns; index += 1) {
          cli.push(await podmanRunOnce(podman, args));
        }
        figures.podmanCli = {
          runs: cli.length,
          total: summarize(cli.map((run) => run.ms)),
          badOutputs: cli.filter((run) => run.stdout !== '1\n').length,
        };
      } catch (error: unknown) {
        figures.podmanCli = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    return figures;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function proxy(
  engine: BenchEngine,
  image: string,
  failures: Failures,
  ownerPids: Set<string>,
): Promise<ProxyFigures | { error: string }> {
  const started = performance.now();
  const settings = SETTINGS.proxy;
  let proxied: ProxiedFigures;
  let proxiedStdio: ProxiedFigures;
  let direct: DirectFigures;
  try {
    const onBridge = (pid: number): void => void ownerPids.add(String(pid));
    proxied = await proxiedCalls(engine.dockerHost, image, settings, failures, onBridge);
    proxiedStdio = await proxiedCalls(
      engine.dockerHost,
      image,
      settings,
      failures,
      onBridge,
      'stdio',
    );
    direct = await directCalls(settings, failures);
  } catch (error: unknown) {
    log(`\nproxied MCP calls: could not measure: ${errorText(error)}`);
    return { error: errorText(error) };
  }
  const ratio = proxied.echo.p50 / direct.sdk.p50;
  log(
    `\nproxied MCP calls: \`await mcp_everything.echo(message="x")\` (server-everything), one` +
      ` run_python call with servers ["everything"], ${proxied.echo.count} sequential after` +
      ` ${settings.warmup} warm-up, each timed in the sandbox (time.perf_counter):`,
  );
  log(`    proxied:                    ${describeSummary(proxied.echo)}`);
  log(`    proxied, MCP_BRIDGE_CHANNEL=stdio (frames through the engine's attach stream):`);
  log(`                                ${describeSummary(proxiedStdio.echo)}`);
  log(`    direct (SDK Client + StdioClientTransport in the bench process, own server instance):`);
  log(`                                ${describeSummary(direct.sdk)}`);
  log(
    `    ratio proxied p50 / direct p50: ${ratio.toFixed(2)}×` +
      ` (target ≤ ${TARGETS.proxiedToDirectP50Max}×)`,
  );
  // No bridge can answer faster than the server plus one sandbox → bridge → sandbox trip.
  const floor = (direct.sdk.p50 + proxied.rpcHop.p50) / direct.sdk.p50;
  log(
    `    floor for any bridge, (direct p50 + RPC hop alone p50) / direct p50: ${floor.toFixed(2)}×` +
      ` (the target needs the hop ≤ ${ms((TARGETS.proxiedToDirectP50Max - 1) * direct.sdk.p50)})`,
  );
  log(
    `    sequential: ${proxied.sequential.calls} calls in ${proxied.sequential.seconds.toFixed(3)} s` +
      ` = ${proxied.sequential.callsPerSecond.toFixed(0)} calls/s` +
      ` (target ≥ ${TARGETS.proxiedCallsPerSecondMin}); direct: ${direct.sdkCallsPerSecond.toFixed(0)} calls/s`,
  );
  const concurrent = proxied.concurrent;
  log(
    `    ${concurrent.calls} concurrent (asyncio.gather), ${concurrent.rounds.length} rounds:` +
      ` ${concurrent.rounds.map((round) => ms(round.ms)).join(', ')};` +
      ` median ${ms(concurrent.medianMs)} (${ms(concurrent.medianMs / concurrent.calls)} per call);` +
      ` right and in order: ${concurrent.rounds.map((round) => `${round.correct}/${round.results}`).join(', ')}`,
  );
  const parts = proxied.rpcHop.p50 + direct.bridgeClient.p50 + proxied.pythonSide.p50;
  log(`    where a proxied call's time goes (p50s, which do not add up exactly):`);
  log(
    `      RPC hop alone, \`await runtime.list_servers()\` (sandbox → bridge → sandbox, no server):` +
      ` ${ms(proxied.rpcHop.p50)}; blocking \`list_servers_sync()\`: ${ms(proxied.rpcHopSync.p50)}` +
      ` (over stdio: ${ms(proxiedStdio.rpcHop.p50)}; ${ms(proxiedStdio.rpcHopSync.p50)})`,
  );
  log(
    `      upstream leg, the bridge's UpstreamClient in the bench process (interleaved with direct):` +
      ` ${ms(direct.bridgeClient.p50)} (p90 ${ms(direct.bridgeClient.p90)})`,
  );
  log(
    `      Python side alone (a transport answering at once in the sandbox): ${ms(proxied.pythonSide.p50)}`,
  );
  log(
    `      rest: ${ms(proxied.echo.p50 - parts)} (proxied p50 − the three: the legs are slower` +
      ` chained than alone, see bench/README.md); blocking \`echo.sync()\` p50 ${ms(proxied.echoSync.p50)}`,
  );
  const seconds = (performance.now() - started) / 1000;
  log(
    `    first call with servers (sandbox start, server start, tools/list): ${ms(proxied.firstCallMs)};` +
      ` the measuring call took ${ms(proxied.cellMs)}; this section ${seconds.toFixed(1)} s`,
  );
  return {
    proxied,
    proxiedStdio,
    direct,
    ratioProxiedToDirectP50: ratio,
    ratioFloor: floor,
    seconds,
  };
}

async function benchEngine(engine: BenchEngine, image: string): Promise<EngineFigures> {
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

  const bridge = await openBridge(engine.dockerHost, image);
  ownerPids.add(String(bridge.pid));
  let warm: WarmFigures;
  let rate: ThroughputFigures;
  let flood: FloodFigures;
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
  } finally {
    await bridge.close();
  }

  const proxyFigures = await proxy(engine, image, failures, ownerPids);

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
    proxy: proxyFigures,
    soak: soakFigures,
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

function targetRows(results: EngineFigures[]): TargetRow[] {
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

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

function runRows(run: RunFigures): TargetRow[] {
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

function printTable(title: string, columns: string[], rows: TargetRow[]): void {
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

/** The engine-independent figures: tools/list size and search recall. */
async function benchOnce(image: string): Promise<RunFigures> {
  const started = performance.now();
  log('\n=== once per run (no engine involved) ===');
  let toolsList: RunFigures['toolsList'];
  try {
    toolsList = await toolsListSizes(image, SETTINGS.toolsListServers);
    log(
      `tools/list of a bridge with ${SETTINGS.toolsListServers.join(' / ')} servers in its servers.json` +
        ' (characters of the answer as JSON; tokens ≈ chars / 4):',
    );
    for (const size of toolsList.sizes) {
      log(
        `    ${String(size.servers).padStart(3)} servers: tools [${size.tools.join(', ')}],` +
          ` ${size.chars} chars ≈ ${size.estimatedTokens} tokens`,
      );
    }
    log(`    the answers are ${toolsList.identical ? 'identical' : 'NOT identical'}`);
  } catch (error: unknown) {
    log(`tools/list: could not measure: ${errorText(error)}`);
    toolsList = { error: errorText(error) };
  }

  const searchRecall = measureSearchRecall();
  const tools = loadCatalogs().reduce((sum, catalog) => sum + catalog.tools.length, 0);
  const describeRecall = (figures: RecallFigures): string =>
    `tuned @1 ${pct(figures.recallAt1)}, @5 ${pct(figures.recallAt5)};` +
    ` held out @1 ${pct(figures.heldOutRecallAt1)}, @5 ${pct(figures.heldOutRecallAt5)}`;
  log(
    `\nsearch recall on the labelled set (test/fixtures/search-queries.json): ${searchRecall.queries}` +
      ` queries (${searchRecall.queries - searchRecall.heldOutQueries} tuned on,` +
      ` ${searchRecall.heldOutQueries} held out) over ${tools} tools of 7 servers:`,
  );
  log(`    search_tool_docs (ToolSearchIndex): ${describeRecall(searchRecall)}`);
  log(`    the original's method (substrings):  ${describeRecall(searchRecall.original)}`);
  log(`    queries whose right tool is not first: ${searchRecall.misses.length}`);
  for (const miss of searchRecall.misses) {
    log(
      `      ${miss.heldOut ? '(held out) ' : ''}"${miss.query}" → ` +
        `${miss.rank === null ? 'not in the top 5' : `rank ${miss.rank}`}; want ${miss.expected.join(' | ')}`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  log(`this section took ${seconds.toFixed(1)} s`);
  return { toolsList, searchRecall, seconds };
}

async function main(): Promise<void> {
  const started = performance.now();
  const image = process.env.MCP_BRIDGE_IMAGE?.trim() || 'localhost/mcp-sandbox:test';
  const engines = await benchEngines();
  log('run_python benchmark');
  log(
    `host: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${os.release()},` +
      ` Node ${process.version}; image ${image}`,
  );
  log(
    `engines: ${engines.map((engine) => `${engine.kind} ${engine.version}`).join(', ')};` +
      ` load average ${loadAverage().join(' ')}`,
  );
  log(
    'Noisy shared VM: compare p50s; p99/max move a lot between runs (see the block p50s and load average).',
  );

  const results: EngineFigures[] = [];
  for (const engine of engines) results.push(await benchEngine(engine, image));
  const run = await benchOnce(image);

  printTable(
    'summary, per engine',
    results.map((result) => result.engine.kind),
    targetRows(results),
  );
  printTable('summary, once per run', ['value'], runRows(run));
  const seconds = (performance.now() - started) / 1000;
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      rounded({
        date: new Date().toISOString(),
        host: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          kernel: os.release(),
          node: process.version,
        },
        image,
        settings: SETTINGS,
        targets: TARGETS,
        seconds,
        engines: results,
        once: run,
      }),
      null,
      2,
    )}\n`,
  );
  log(
    `\nfigures written to ${path.relative(process.cwd(), RESULTS_FILE)}; total ${seconds.toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof BenchSetupError) console.error(`bench: ${error.message}`);
  else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
