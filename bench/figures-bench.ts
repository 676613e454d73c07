import { performance } from 'node:perf_hooks';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Failures } from './bridge-bench.js';
import type { BenchBridge } from './bridge-process.js';
import { summarize, type Summary } from './stats.js';

/**
 * Rich results (issue 9): the time from call to result for one 800×600 matplotlib figure
 * in a warm session (matplotlib already imported), and the bytes it returns; and whether
 * calls that draw nothing pay anything once pyplot is loaded (the runner then asks
 * pyplot for open figures at the end of every cell).
 */

const FIGURE = `
fig, ax = plt.subplots(figsize=(8, 6), dpi=100)
ax.plot(range(100), [i * i for i in range(100)])
ax.set_title("bench")
`;

export interface FigureFigures {
  calls: number;
  /** Call to result, one 800×600 figure per call. */
  figure: Summary;
  /** The PNG as decoded, and the whole result as JSON. */
  pngBytes: number;
  resultBytes: number;
  /** `pass` before any matplotlib import, and after pyplot was imported (no figure open). */
  passBefore: Summary;
  passAfterPyplot: Summary;
}

async function timed(bridge: BenchBridge, code: string): Promise<[number, CallToolResult]> {
  const t0 = performance.now();
  const result = (await bridge.client.callTool(
    { name: 'run_python', arguments: { code } },
    undefined,
    { timeout: 60_000 },
  )) as CallToolResult;
  return [performance.now() - t0, result];
}

async function passCalls(bridge: BenchBridge, count: number): Promise<Summary> {
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) samples.push((await timed(bridge, 'pass'))[0]);
  return summarize(samples);
}

export async function figureCalls(
  bridge: BenchBridge,
  calls: number,
  failures: Failures,
): Promise<FigureFigures> {
  const passBefore = await passCalls(bridge, calls * 5);
  const [, imported] = await timed(bridge, 'import matplotlib.pyplot as plt');
  if (imported.isError) failures.add('import matplotlib.pyplot failed');
  const passAfterPyplot = await passCalls(bridge, calls * 5);
  await timed(bridge, FIGURE); // the first figure loads fonts and the PNG writer
  const samples: number[] = [];
  let pngBytes = 0;
  let resultBytes = 0;
  for (let index = 0; index < calls; index += 1) {
    const [ms, result] = await timed(bridge, FIGURE);
    samples.push(ms);
    const image = result.content.find((block) => block.type === 'image');
    if (image?.type !== 'image') {
      failures.add(`figure call returned no image: ${JSON.stringify(result.content[0])}`);
      continue;
    }
    pngBytes = Buffer.from(image.data, 'base64').length;
    resultBytes = Buffer.byteLength(JSON.stringify(result));
  }
  return {
    calls,
    figure: summarize(samples),
    pngBytes,
    resultBytes,
    passBefore,
    passAfterPyplot,
  };
}
