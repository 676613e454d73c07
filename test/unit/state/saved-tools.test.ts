import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/logger.js';
import {
  LOAD_TIMEOUT_MS,
  planSavedToolLoad,
  type LoadResult,
} from '../../../src/state/saved-tool-loader.js';
import {
  MAX_SAVED_TOOL_SOURCE_BYTES,
  MAX_SAVED_TOOLS,
  MAX_SAVED_TOOLS_TOTAL_BYTES,
  SavedToolError,
  SavedToolStore,
} from '../../../src/state/saved-tools.js';
import { runToolsCommand } from '../../../src/state/tools-cli.js';

const logger: Logger = pino({ level: 'silent' });

let stateDir: string;
let store: SavedToolStore;

beforeEach(() => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'saved-tools-'));
  store = new SavedToolStore(stateDir, logger);
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

const toolSource = (name: string, padding = 0) =>
  `def ${name}(x=1):\n    """Pads."""\n    return x${padding > 0 ? `  # ${'p'.repeat(padding)}` : ''}\n`;

/** Writes a tool file as an older version (or a hand edit) could have left it. */
function plant(name: string, source: string, file = `${name}.json`): string {
  mkdirSync(store.folder, { recursive: true });
  const text = JSON.stringify({ name, source, savedAt: '2025-01-01T00:00:00.000Z' });
  writeFileSync(path.join(store.folder, file), text);
  return text;
}

function completed(stdout: string, outcome = 'completed'): LoadResult {
  return { outcome, stdout, stderr: '', lostReason: undefined };
}

describe('SavedToolStore.save', () => {
  it('stores a tool that follows the rule, and refuses others with the reason', () => {
    expect(store.save({ name: 'double', source: toolSource('double') }).name).toBe('double');
    expect(store.list().map((tool) => tool.name)).toEqual(['double']);
    expect(() =>
      store.save({ name: 'evil', source: 'import os\ndef evil():\n    pass\n' }),
    ).toThrow(/^Cannot save 'evil': a saved tool must be a single function definition/);
    expect(() => store.save({ name: 'print', source: 'def print():\n    pass\n' })).toThrow(
      SavedToolError,
    );
    expect(store.list().map((tool) => tool.name)).toEqual(['double']);
  });

  it('refuses a source over the per-tool limit, naming it', () => {
    const source = toolSource('big', MAX_SAVED_TOOL_SOURCE_BYTES);
    expect(() => store.save({ name: 'big', source })).toThrow(
      new RegExp(`at most ${MAX_SAVED_TOOL_SOURCE_BYTES} bytes \\(64 KiB\\)`),
    );
  });

  it('refuses a tool beyond the count limit, but replaces an existing one', () => {
    for (let index = 0; index < MAX_SAVED_TOOLS; index += 1) {
      store.save({ name: `tool${index}`, source: toolSource(`tool${index}`) });
    }
    expect(() => store.save({ name: 'one_more', source: toolSource('one_more') })).toThrow(
      new RegExp(`the limit is ${MAX_SAVED_TOOLS}\\. Delete one first`),
    );
    expect(store.save({ name: 'tool7', source: toolSource('tool7') }).name).toBe('tool7');
  });

  it('refuses a tool that would take the total size over the limit, naming it', () => {
    const each = MAX_SAVED_TOOL_SOURCE_BYTES - 200;
    const fits = Math.floor(MAX_SAVED_TOOLS_TOTAL_BYTES / each);
    for (let index = 0; index < fits; index += 1) {
      store.save({ name: `big${index}`, source: toolSource(`big${index}`, each - 60) });
    }
    expect(() => store.save({ name: 'last', source: toolSource('last', each - 60) })).toThrow(
      new RegExp(`the limit is ${MAX_SAVED_TOOLS_TOTAL_BYTES} bytes \\(1 MiB\\) in total`),
    );
  });
});

describe('loading saved tools', () => {
  it('quarantines what the host refuses (moved, not deleted) and plans the rest', () => {
    plant('good', toolSource('good'));
    const evil = plant('evil', 'import os\ndef evil():\n    pass\n');
    plant('other', toolSource('other'), 'renamed.json');
    mkdirSync(store.folder, { recursive: true });
    writeFileSync(path.join(store.folder, 'garbled.json'), '{"name": ');

    const plan = planSavedToolLoad(store, logger);
    expect(plan.cell?.code).toMatch(/^import mcp\.runtime as _r; _r\._load_saved_tools\("/);
    expect(plan.notices).toHaveLength(3);
    expect(plan.notices.join('\n')).toMatch(
      /Saved tool 'evil' was quarantined and will not be loaded again: a saved tool must be a single function definition/,
    );
    expect(readdirSync(store.folder).filter((file) => file.endsWith('.json'))).toEqual([
      'good.json',
    ]);
    expect(readFileSync(path.join(store.quarantineFolder, 'evil.json'), 'utf8')).toBe(evil);
    expect(store.listQuarantined().map((tool) => [tool.name, tool.reason])).toEqual([
      ['evil', expect.stringMatching(/single function definition/)],
      ['garbled', 'its file is not a readable saved tool'],
      ['renamed', "its file is named renamed.json but holds the tool 'other'"],
    ]);
    // Quarantined once: the next plan says nothing more.
    expect(planSavedToolLoad(store, logger).notices).toEqual([]);
  });

  it('has no cell when there is nothing to load', () => {
    expect(planSavedToolLoad(store, logger)).toEqual({ notices: [], cell: undefined });
  });

  it("quarantines what the sandbox's loader reports, and only tools it was sent", () => {
    plant('good', toolSource('good'));
    plant('starry', 'def starry(*):\n    pass\n');
    const cell = planSavedToolLoad(store, logger).cell;
    const settled = cell?.settle(
      completed(
        [
          '[saved-tool] loading good',
          '[saved-tool] loaded good',
          '[saved-tool] loading starry',
          '[saved-tool] quarantine starry "its source does not compile: bare *"',
          '[saved-tool] quarantine stranger "not sent"',
          'other output',
        ].join('\n'),
      ),
    );
    expect(settled?.usable).toBe(true);
    expect(settled?.notices).toEqual([
      expect.stringMatching(
        /^Saved tool 'starry' was quarantined .*: its source does not compile: bare \*\./,
      ),
    ]);
    expect(store.list().map((tool) => tool.name)).toEqual(['good']);
  });

  it('quarantines the tool a timed-out or dead load was on, and asks for a fresh sandbox', () => {
    plant('first', toolSource('first'));
    plant('second', toolSource('second'));
    const cell = planSavedToolLoad(store, logger).cell;
    expect(cell?.timeoutMs).toBe(LOAD_TIMEOUT_MS);
    const stdout =
      '[saved-tool] loading first\n[saved-tool] loaded first\n[saved-tool] loading second\n';
    const settled = cell?.settle(completed(stdout, 'timeout'));
    expect(settled?.usable).toBe(false);
    expect(settled?.notices.join('\n')).toMatch(
      /Saved tool 'second' was quarantined .*: loading it did not finish within 15 s/,
    );
    expect(store.list().map((tool) => tool.name)).toEqual(['first']);
    expect(existsSync(path.join(store.quarantineFolder, 'second.json'))).toBe(true);
  });
});

describe('tools CLI', () => {
  const cli = (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runToolsCommand(args, {
      stateDir,
      logger,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('lists saved and quarantined tools, deletes either, and refuses bad input', () => {
    const empty = cli('list');
    expect(empty.code).toBe(0);
    expect(empty.out).toMatch(/^No saved tools/);
    store.save({ name: 'good', source: toolSource('good'), description: 'Pads.' });
    plant('print', 'def print():\n    pass\n');
    planSavedToolLoad(store, logger);

    const listed = cli('list');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^good\s+saved\s+\S+\s+Pads\.$/m);
    expect(listed.out).toMatch(/^print\s+quarantined\s+\S+\s+'print' is a Python builtin/m);

    expect(cli('delete', 'print')).toMatchObject({
      code: 0,
      out: "Deleted the quarantined tool 'print'.",
    });
    expect(cli('delete', 'good')).toMatchObject({ code: 0, out: "Deleted the saved tool 'good'." });
    const missing = cli('delete', 'good');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^No saved or quarantined tool named 'good'/);
    const invalid = cli('delete', '../history.sqlite3');
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/not a valid tool name/);
    const incomplete = cli('delete');
    expect(incomplete.code).toBe(2);
    expect(incomplete.err).toMatch(/^Unknown or incomplete/);
    expect(cli('remove', 'x').code).toBe(2);
    expect(cli().code).toBe(2);
    expect(cli('--help').code).toBe(0);
    expect(readdirSync(store.quarantineFolder)).toEqual([]);
  });
});
