import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BRIDGE_BIN = path.join(REPO_ROOT, 'dist/src/main.js');

/** One pino log line: `time` is epoch ms, comparable with Date.now() here. */
export interface BridgeLogEvent {
  msg: string;
  time: number;
  [field: string]: unknown;
}

/** The built bridge as a child process, with the real MCP SDK client on its stdio. */
export interface BenchBridge {
  client: Client;
  /** The bridge process's pid (VmHWM is read from /proc/<pid>/status). */
  pid: number;
  stderr(): string;
  /** The bridge's JSON log lines (pino) seen on stderr so far, parsed. */
  logEvents(): BridgeLogEvent[];
  /** Closes stdin and waits for the process to exit (the SDK sends SIGTERM after 2 s). */
  close(): Promise<void>;
}

export interface BenchBridgeOptions {
  logLevel?: 'warn' | 'info';
  /**
   * A state dir prepared by the caller (e.g. holding a `servers.json`), kept on close;
   * by default a fresh private one, removed on close.
   */
  stateDir?: string;
  /** More environment for the bridge, e.g. `MCP_BRIDGE_CHANNEL`. */
  env?: Record<string, string>;
  /** Another build of the bridge to run (BENCH_BEFORE_BIN: the code before a change). */
  bin?: string;
}

/**
 * Spawns `node dist/src/main.js run` and completes the MCP initialize handshake, as an MCP
 * client such as Claude Desktop would. The bridge gets a minimal environment: the engine,
 * the image and a state directory (private unless the caller passes one).
 */
export async function startBenchBridge(
  dockerHost: string,
  image: string,
  options: BenchBridgeOptions = {},
): Promise<BenchBridge> {
  const { logLevel = 'warn' } = options;
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-bridge-'));
  const removeStateDir = (): void => {
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
  };
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [options.bin ?? BRIDGE_BIN, 'run'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      DOCKER_HOST: dockerHost,
      MCP_BRIDGE_IMAGE: image,
      MCP_BRIDGE_STATE_DIR: stateDir,
      MCP_BRIDGE_LOG_LEVEL: logLevel,
      ...options.env,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-100_000);
  });
  const client = new Client({ name: 'run-python-bench', version: '0.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close();
    removeStateDir();
    throw error;
  }
  const pid = transport.pid;
  if (pid === null) throw new Error('the bridge process has no pid');
  return {
    client,
    pid,
    stderr: () => stderr,
    logEvents: () => parseLogLines(stderr),
    close: async () => {
      await client.close();
      removeStateDir();
    },
  };
}

function parseLogLines(text: string): BridgeLogEvent[] {
  const events: BridgeLogEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null) continue;
      const { msg, time } = value as { msg?: unknown; time?: unknown };
      if (typeof msg === 'string' && typeof time === 'number') {
        events.push({ ...(value as Record<string, unknown>), msg, time });
      }
    } catch {
      // not a log line
    }
  }
  return events;
}
