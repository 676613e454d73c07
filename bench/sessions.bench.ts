/**
 * `npx tsx bench/sessions.bench.ts` (after `npm run build`): the named-session figures
 * alone (bench/sessions-bench.ts), per engine. `npm run bench` prints them too.
 */
import { errorText, log } from './bench-output.js';
import { Failures } from './bridge-bench.js';
import { BenchSetupError, benchEngines } from './engines.js';
import { describeSessions, sessionScaling } from './sessions-bench.js';

async function main(): Promise<void> {
  const image = process.env.MCP_BRIDGE_IMAGE?.trim() || 'localhost/mcp-sandbox:test';
  for (const engine of await benchEngines()) {
    log(`\n=== ${engine.kind} ${engine.version} ===`);
    const failures = new Failures();
    try {
      const figures = await sessionScaling(engine.dockerHost, image, failures);
      for (const line of describeSessions(figures)) log(line);
    } catch (error: unknown) {
      log(`named sessions: could not measure: ${errorText(error)}`);
    }
    if (failures.count > 0) log(`failures: ${failures.count}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof BenchSetupError) console.error(`bench: ${error.message}`);
  else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
