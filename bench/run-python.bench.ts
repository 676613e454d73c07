/**
 * `npm run bench`: run_python latency through the real MCP stdio client and the built bin,
 * against every configured engine, with a hardened per-call container as the baseline.
 * Also MCP proxying (issue 3 item 10): proxied tool calls from the sandbox against direct
 * SDK calls, tools/list size, search recall. Prints figures and whether the targets are
 * met; asserts nothing. See bench/README.md.
 *
 * The parts: run-python-settings.ts (what is measured, the targets), engine-section.ts
 * (one engine's figures, with proxy-section.ts and baseline-section.ts), once-section.ts
 * (engine-independent figures), summary-tables.ts (the tables of targets met), and the
 * figures' shapes in run-python-figures.ts; this file runs them and writes the JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAverage, log } from './bench-output.js';
import { REPO_ROOT } from './bridge-process.js';
import { benchEngine } from './engine-section.js';
import { BenchSetupError, benchEngines } from './engines.js';
import { benchOnce } from './once-section.js';
import type { EngineFigures } from './run-python-figures.js';
import { SETTINGS, TARGETS } from './run-python-settings.js';
import { rounded } from './stats.js';
import { printTable, runRows, targetRows } from './summary-tables.js';

const RESULTS_FILE = path.join(REPO_ROOT, '.bench-results/run-python.json');

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
