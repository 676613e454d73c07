import { errorText, log } from './bench-output.js';
import type { Failures } from './bridge-bench.js';
import type { BenchEngine } from './engines.js';
import {
  directCalls,
  proxiedCalls,
  type DirectFigures,
  type ProxiedFigures,
} from './proxy-bench.js';
import type { ProxyFigures } from './run-python-figures.js';
import { SETTINGS, TARGETS } from './run-python-settings.js';
import { describeSummary, ms } from './stats.js';

/** The proxied-MCP-call section: measured, printed, returned. */

export async function proxy(
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
