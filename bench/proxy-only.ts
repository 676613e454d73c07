/**
 * The proxied-call figure alone (bench/README.md, "proxied MCP call"), repeated: for
 * comparing a change to the proxied hot path (e.g. the audit trail) before and after.
 * `npx tsx bench/proxy-only.ts [runs]` against MCP_BRIDGE_TEST_PODMAN_HOST (else
 * DOCKER_HOST); build first (`npm run build`). Prints each run's p50/p90 and calls/s.
 */
import { log } from './bench-output.js';
import { Failures } from './bridge-bench.js';
import { proxiedCalls } from './proxy-bench.js';
import { SETTINGS } from './run-python-settings.js';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const dockerHost =
    process.env.MCP_BRIDGE_TEST_PODMAN_HOST ??
    process.env.DOCKER_HOST ??
    'unix:///run/podman/podman.sock';
  const image = process.env.MCP_BRIDGE_IMAGE?.trim() || 'localhost/mcp-sandbox:test';
  const failures = new Failures();
  const p50s: number[] = [];
  for (let run = 1; run <= runs; run += 1) {
    const figures = await proxiedCalls(
      dockerHost,
      image,
      SETTINGS.proxy,
      failures,
      () => undefined,
    );
    p50s.push(figures.echo.p50);
    log(
      `run ${run}: proxied echo p50 ${figures.echo.p50.toFixed(3)} ms, p90 ${figures.echo.p90.toFixed(3)} ms,` +
        ` ${figures.sequential.callsPerSecond.toFixed(0)} calls/s; rpc hop p50 ${figures.rpcHop.p50.toFixed(3)} ms`,
    );
  }
  p50s.sort((a, b) => a - b);
  log(`median of the run p50s: ${(p50s[Math.floor(p50s.length / 2)] ?? NaN).toFixed(3)} ms`);
  if (failures.count > 0) log(`failures: ${failures.count}: ${failures.examples.join('; ')}`);
}

await main();
