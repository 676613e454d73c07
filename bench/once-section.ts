import { errorText, log, pct } from './bench-output.js';
import { toolsListSizes } from './proxy-bench.js';
import type { RunFigures } from './run-python-figures.js';
import { SETTINGS } from './run-python-settings.js';
import { loadCatalogs, measureSearchRecall, type RecallFigures } from './search-recall.js';

/** The engine-independent figures: tools/list size and search recall. */
export async function benchOnce(image: string): Promise<RunFigures> {
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
