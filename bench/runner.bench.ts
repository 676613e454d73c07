/**
 * `npx tsx bench/runner.bench.ts`: how long the runner and the safety checker take, on
 * the host's python3 over pipes (as test/integration drives them: no engine, no bridge).
 * The tests check what happens; these are the figures of how soon:
 *
 * - output cap: a cell printing 50 MB to stdout and writing 3 MB to fd 2, capped at 1000
 *   characters per stream: time from `execute` to `done`;
 * - interrupt: from the `interrupt` frame to the `done` frame, for a cell in
 *   `time.sleep`, in `asyncio.sleep` and in a busy Python loop;
 * - safety check: `runtime.check_code_safety` on 3 MB of source (refused unread), on the
 *   largest source it analyses (49,000 lines), and on code that runs into its 3 s budget.
 *
 * Each figure is the median of RUNNER_BENCH_RUNS runs (default 5), min and max beside it.
 * Prints figures; asserts nothing; exits 1 only if a run did not end as it should.
 */
import { performance } from 'node:perf_hooks';
import { SandboxProcess } from '../test/support/sandbox-process.js';
import { ms, summarize } from './stats.js';

const RUNS = Number(process.env.RUNNER_BENCH_RUNS ?? 5);

interface Figure {
  name: string;
  samples: number[];
}

/** Runs `once` RUNS times, each returning its milliseconds. */
async function measure(name: string, once: () => Promise<number>): Promise<Figure> {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) samples.push(await once());
  return { name, samples };
}

function expectThat(condition: boolean, what: string): void {
  if (!condition) throw new Error(`unexpected: ${what}`);
}

async function outputCap(sandbox: SandboxProcess): Promise<number> {
  const started = performance.now();
  const result = await sandbox.execute(
    'print("x" * 50_000_000)\nimport os\nos.write(2, b"e" * 3_000_000)',
    1000,
  );
  const elapsed = performance.now() - started;
  expectThat(result.stdout.length === 1000, 'stdout not capped at 1000 characters');
  return elapsed;
}

async function interrupt(sandbox: SandboxProcess, code: string): Promise<number> {
  const id = sandbox.start(`print("started", flush=True)\n${code}`);
  await sandbox.take((frame) => frame.id === id && frame.type === 'stdout');
  const sent = performance.now();
  sandbox.send({ type: 'interrupt', id });
  const { done } = await sandbox.finish(id);
  const elapsed = performance.now() - sent;
  expectThat(done.outcome === 'interrupted', `${code}: ended ${String(done.outcome)}`);
  return elapsed;
}

async function safetyCheck(sandbox: SandboxProcess, expression: string): Promise<number> {
  const started = performance.now();
  const result = await sandbox.execute(
    `from mcp import runtime as _rt\nimport json as _json\n` +
      `print(_json.dumps(_rt.check_code_safety(${expression})))`,
  );
  const elapsed = performance.now() - started;
  expectThat(result.done.outcome === 'completed', `check_code_safety: ${result.stderr}`);
  return elapsed;
}

async function main(): Promise<void> {
  const sandbox = new SandboxProcess();
  const figures: Figure[] = [];
  try {
    await sandbox.takeType('ready');
    await sandbox.execute('import asyncio, time');
    figures.push(await measure('output cap (50 MB + 3 MB → 1000 chars)', () => outputCap(sandbox)));
    for (const [what, code] of [
      ['time.sleep', 'time.sleep(30)'],
      ['asyncio.sleep', 'await asyncio.sleep(30)'],
      ['busy loop', 'while True:\n    pass'],
    ] as const) {
      figures.push(await measure(`interrupt → done (${what})`, () => interrupt(sandbox, code)));
    }
    for (const [what, expression] of [
      ['3 MB, refused unread', '"x = 1\\n" * 500_000'],
      ['49,000 lines, analysed', '"a\\n" * 49_000 + "eval(x)\\n"'],
      [
        'stopped at its 3 s budget',
        '"s0 = \'a\'\\n" + "".join(f"s{i + 1} = s{i} + s{i}\\n" for i in range(12)) + "x[s12]\\n" * 15_000',
      ],
    ] as const) {
      figures.push(
        await measure(`check_code_safety (${what})`, () => safetyCheck(sandbox, expression)),
      );
    }
  } finally {
    await sandbox.close();
  }
  console.log(`runner on the host's python3, ${RUNS} runs each: median (min … max)`);
  for (const { name, samples } of figures) {
    const summary = summarize(samples);
    console.log(
      `  ${name.padEnd(48)} ${ms(summary.p50)} (${ms(summary.min)} … ${ms(summary.max)})`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
