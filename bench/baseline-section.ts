import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sandboxBlueprint } from '../src/app.js';
import { loadConfig } from '../src/config/env.js';
import { findExecutable } from '../src/container/find-executable.js';
import { LABELS } from '../src/container/labels.js';
import { perCallContainer, type PerCallSample, podmanRunArgs, podmanRunOnce } from './baseline.js';
import type { BenchEngine } from './engines.js';
import type { BaselineFigures, PerCallFigures } from './run-python-figures.js';
import { SETTINGS } from './run-python-settings.js';
import { summarize } from './stats.js';

/** The baseline section: a hardened container per call, as the original bridge ran code. */

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

export async function baseline(engine: BenchEngine, image: string): Promise<BaselineFigures> {
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
