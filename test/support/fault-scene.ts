import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeResult, payloadOf, REPO_ROOT, waitFor } from './bridge-client.js';

/**
 * What the fault tests share: a state dir whose `servers.json` configures the misbehaving
 * fixture server with a mark folder, so a test can wait for the moment a call is in flight
 * (the server writes a file) instead of sleeping, and checks of what a fault left behind.
 */

export const FIXTURE_SERVER = path.join(REPO_ROOT, 'test/fixtures/misbehaving-server.mjs');

export interface FaultScene {
  root: string;
  stateDir: string;
  /** Where the fixture servers write their marks. */
  markDir: string;
  /**
   * Waits until the file `markDir/<name>` exists and returns what it holds (the writing
   * server's pid). Throws after `timeoutMs` with `context()` in the message.
   */
  waitForMark(name: string, context?: () => string, timeoutMs?: number): Promise<number>;
  /** Like waitForMark, for the first mark whose name starts with `prefix`. */
  waitForMarkPrefix(prefix: string, context?: () => string, timeoutMs?: number): Promise<number>;
  remove(): void;
}

/**
 * A fresh state dir with `servers.json` configuring each named server as the fixture with
 * MISBEHAVE_MARK_DIR set (plus the given environment). `stateDir` may be a folder of the
 * caller's (e.g. a tmpfs mount point); it is then not removed.
 */
export function faultScene(
  servers: Record<string, Record<string, string>> = { fixture: {} },
  stateDir?: string,
): FaultScene {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcp-faults-'));
  const state = stateDir ?? path.join(root, 'state');
  const markDir = path.join(root, 'marks');
  mkdirSync(state, { recursive: true });
  mkdirSync(markDir);
  const mcpServers = Object.fromEntries(
    Object.entries(servers).map(([name, env]) => [
      name,
      {
        command: process.execPath,
        args: [FIXTURE_SERVER],
        env: { MISBEHAVE_MARK_DIR: markDir, ...env },
      },
    ]),
  );
  writeFileSync(path.join(state, 'servers.json'), JSON.stringify({ mcpServers }));
  const find = (match: (name: string) => boolean) => readdirSync(markDir).find(match);
  const waitMatching = async (
    what: string,
    match: (name: string) => boolean,
    context: () => string = () => '',
    timeoutMs = 30_000,
  ): Promise<number> => {
    if (!(await waitFor(() => find(match) !== undefined, timeoutMs, 50))) {
      throw new Error(`no mark ${what} within ${timeoutMs} ms\n${context()}`);
    }
    return Number(readFileSync(path.join(markDir, find(match) ?? ''), 'utf8'));
  };
  return {
    root,
    stateDir: state,
    markDir,
    waitForMark: (name, context, timeoutMs) =>
      waitMatching(`'${name}'`, (entry) => entry === name, context, timeoutMs),
    waitForMarkPrefix: (prefix, context, timeoutMs) =>
      waitMatching(`'${prefix}…'`, (entry) => entry.startsWith(prefix), context, timeoutMs),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Python for a cell that marks `name` through the `fixture` server, then sleeps. */
export function markThenSleep(name: string, seconds = 600, server = 'fixture'): string {
  return [
    `await mcp_${server}.mark(name=${JSON.stringify(name)})`,
    'import time',
    `time.sleep(${seconds})`,
    'print("the sleep ended: the fault did not reach this cell")',
  ].join('\n');
}

/** The socket lane folders of bridge `pid` left in the temp folder (docs/protocol.md). */
export function laneDirsOf(pid: number): string[] {
  return readdirSync(os.tmpdir()).filter((name) => name.startsWith(`mcp-bridge-lane-${pid}-`));
}

/**
 * Pids of the processes whose command line contains `text`, e.g. a container id: its
 * conmon (Podman) or containerd shim (Docker) names it. Empty `text` matches nothing.
 */
export function processesMentioning(text: string): number[] {
  if (!text) return [];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether process `pid` is gone (or a zombie nobody reaped yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /\) Z /.test(stat);
  } catch {
    return !existsSync(`/proc/${pid}`);
  }
}

/** The error the agent is told, checked to be a sandbox error. */
export function sandboxError(result: CallToolResult): string {
  const payload = payloadOf(result);
  if (payload.status !== 'error' || !payload.error) {
    throw new Error(`expected a sandbox error, got: ${describeResult(result)}`);
  }
  return payload.error;
}
