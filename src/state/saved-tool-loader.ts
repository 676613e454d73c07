import type { Logger } from '../logger.js';
import type { SavedToolStore } from './saved-tools.js';

/**
 * Loading the saved tools into each new sandbox, as its first (internal) cell, and
 * quarantining those that cannot be loaded so that no session start fails or waits
 * for them twice (docs/protocol.md, "Saved tools at start").
 *
 * The host vets every stored tool first (rule and limits, SavedToolStore.prepareLoad).
 * The sandbox's loader (sandbox/mcp/_saved.py) checks each once more with Python's ast,
 * in the fresh interpreter before any of the agent's code has run there, and defines it
 * within a time budget. It reports on its stdout, one line per step:
 * `[saved-tool] loading NAME`, then `[saved-tool] loaded NAME` or
 * `[saved-tool] quarantine NAME "<reason as JSON>"`. A tool still `loading` when the cell
 * timed out or the sandbox died is the one that hung it: quarantined too, and the
 * session starts over in a fresh sandbox.
 */

/** The whole start-up cell; each tool has its own, smaller budget inside the sandbox. */
export const LOAD_TIMEOUT_MS = 15_000;
export const REPORT_PREFIX = '[saved-tool] ';
/** Room for every report line of the largest allowed set of tools. */
const LOAD_OUTPUT_CHARS = 256 * 1024;

/** What settling needs from the cell's result (session/live-sandbox.ts ExecutionResult). */
export interface LoadResult {
  outcome: string;
  stdout: string;
  stderr: string;
  lostReason: string | undefined;
}

export interface LoadCell {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /**
   * Quarantines what failed, returns the notices for the agent, and whether the sandbox
   * may be used (false: discard it and start another, which loads the rest).
   */
  settle(result: LoadResult): { notices: string[]; usable: boolean };
}

/** What a new sandbox should know before the agent's first cell runs. */
export interface LoadPlan {
  /** Tools quarantined by the host's own check, to tell the agent about. */
  notices: string[];
  /** Absent when there is nothing to load. */
  cell: LoadCell | undefined;
}

/** Told to the agent once: the tool is moved aside and never loaded again. */
export function quarantineNotice(name: string, reason: string): string {
  return (
    `Saved tool '${name}' was quarantined and will not be loaded again: ${reason}. ` +
    'The user can list it with `mcp-server-code-execution-mode tools list` and remove it ' +
    `with \`mcp-server-code-execution-mode tools delete ${name}\`; save a fixed version ` +
    'with save_tool to use it again.'
  );
}

/** Reads the store (quarantining what the host refuses) and prepares the start-up cell. */
export function planSavedToolLoad(store: SavedToolStore, logger: Logger): LoadPlan {
  const { tools, quarantined } = store.prepareLoad();
  const notices = quarantined.map(({ name, reason }) => quarantineNotice(name, reason));
  if (tools.length === 0) return { notices, cell: undefined };
  const names = new Set(tools.map((tool) => tool.name));
  // JSON inside a JSON string literal, which is also a valid Python string literal: no
  // source can break out of it.
  const payload = JSON.stringify(JSON.stringify(tools.map((tool) => [tool.name, tool.source])));
  return {
    notices,
    cell: {
      code: `import mcp.runtime as _r; _r._load_saved_tools(${payload})`,
      timeoutMs: LOAD_TIMEOUT_MS,
      maxOutputChars: LOAD_OUTPUT_CHARS,
      settle: (result) => settleLoad(result, { names, store, logger }),
    },
  };
}

function settleLoad(
  result: LoadResult,
  context: { names: ReadonlySet<string>; store: SavedToolStore; logger: Logger },
): { notices: string[]; usable: boolean } {
  const { names, store, logger } = context;
  const notices: string[] = [];
  const quarantine = (name: string, reason: string) => {
    if (store.quarantine(name, reason)) notices.push(quarantineNotice(name, reason));
  };
  let loading: string | undefined;
  for (const line of result.stdout.split('\n')) {
    const report = parseReport(line);
    if (!report || !names.has(report.name)) continue;
    loading = report.step === 'loading' ? report.name : undefined;
    if (report.step === 'quarantine') quarantine(report.name, report.reason);
  }
  if (result.stderr.trim()) {
    logger.warn({ stderr: result.stderr.slice(0, 4000) }, 'loading saved tools wrote to stderr');
  }
  if (result.outcome === 'completed') return { notices, usable: true };
  const why =
    result.outcome === 'timeout'
      ? `loading it did not finish within ${LOAD_TIMEOUT_MS / 1000} s`
      : `the sandbox failed while loading it (${result.lostReason ?? lastLine(result.stderr)})`;
  if (loading !== undefined) {
    quarantine(loading, why);
    return { notices, usable: false };
  }
  logger.error(
    { outcome: result.outcome, stderr: result.stderr.slice(0, 4000), lost: result.lostReason },
    'the saved-tool loader failed',
  );
  notices.push(
    `Saved tools could not all be loaded in this session (${result.lostReason ?? lastLine(result.stderr)}).`,
  );
  return { notices, usable: result.outcome === 'exception' };
}

type Report =
  | { step: 'loading' | 'loaded'; name: string }
  | { step: 'quarantine'; name: string; reason: string };

function parseReport(line: string): Report | undefined {
  if (!line.startsWith(REPORT_PREFIX)) return undefined;
  const [step, name, ...rest] = line.slice(REPORT_PREFIX.length).split(' ');
  if (name === undefined) return undefined;
  if (step === 'loading' || step === 'loaded') return { step, name };
  if (step !== 'quarantine') return undefined;
  let reason: unknown;
  try {
    reason = JSON.parse(rest.join(' '));
  } catch {
    reason = undefined;
  }
  return { step, name, reason: typeof reason === 'string' ? reason : 'it failed to load' };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) || 'no detail';
}
