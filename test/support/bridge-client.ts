import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  type CallToolResult,
  type ClientCapabilities,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BRIDGE_BIN = path.join(REPO_ROOT, 'dist/src/main.js');
/** The label carrying the pid of the bridge that owns a container (src/container/labels.ts). */
export const OWNER_PID_LABEL = 'io.github.mcp-server-code-execution-mode.owner-pid';

export interface BridgeHandle {
  client: Client;
  /** The bridge's process id (the owner-pid label of its containers). */
  pid: number;
  stateDir: string;
  /** The last 200,000 characters the bridge wrote to its stderr (its log). */
  stderr: () => string;
  /** How many bytes the bridge has written to its stderr in all. */
  stderrBytes: () => number;
  /** Calls run_python and returns the raw result. */
  run(args: Record<string, unknown>, timeoutMs?: number): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A bridge whose process we hold ourselves, to see how and when it exits. */
export interface BridgeProcessHandle extends BridgeHandle {
  exit: Promise<ProcessExit>;
}

export interface BridgeOptions {
  dockerHost: string;
  env?: Record<string, string>;
  /** A command to run the bridge under, e.g. ['/usr/bin/unshare', '--mount', …]. */
  launcher?: string[];
  /** A state dir to share between bridges (kept on close); by default a fresh temp one. */
  stateDir?: string;
  /** The client's name in `initialize` (some change what the bridge returns). */
  clientName?: string;
  /** Capabilities the client declares, e.g. `{ elicitation: {} }` (default: none). */
  clientCapabilities?: ClientCapabilities;
  /** Runs before the client connects: set its request handlers (e.g. elicitation). */
  setupClient?: (client: Client) => void;
}

/** What the bridge wrote to its stderr: the recent text, and how much in all. */
class StderrRecord {
  tail = '';
  bytes = 0;

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.tail = (this.tail + chunk.toString('utf8')).slice(-200_000);
  }
}

function makeStateDir(options: BridgeOptions): { stateDir: string; owned: boolean } {
  if (options.stateDir) return { stateDir: options.stateDir, owned: false };
  return { stateDir: mkdtempSync(path.join(os.tmpdir(), 'mcp-bridge-test-')), owned: true };
}

function bridgeEnv(options: BridgeOptions, stateDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: options.dockerHost,
    MCP_BRIDGE_IMAGE: process.env.MCP_BRIDGE_IMAGE ?? 'localhost/mcp-sandbox:test',
    MCP_BRIDGE_STATE_DIR: stateDir,
    MCP_BRIDGE_LOG_LEVEL: process.env.MCP_BRIDGE_TEST_LOG_LEVEL ?? 'warn',
    ...options.env,
  };
}

function bridgeCommand(options: BridgeOptions): { command: string; args: string[] } {
  const [command, ...args] = [...(options.launcher ?? []), process.execPath, BRIDGE_BIN, 'run'];
  return { command: command ?? process.execPath, args };
}

async function connect(
  transport: Transport,
  pid: () => number | null | undefined,
  state: { stateDir: string; owned: boolean },
  stderr: StderrRecord,
  options: BridgeOptions,
): Promise<BridgeHandle> {
  const { stateDir } = state;
  const client = new Client(
    { name: options.clientName ?? 'bridge-e2e', version: '0.0.0' },
    options.clientCapabilities ? { capabilities: options.clientCapabilities } : undefined,
  );
  options.setupClient?.(client);
  await client.connect(transport);
  const bridgePid = pid();
  if (!bridgePid) throw new Error('the bridge process has no pid');
  return {
    client,
    pid: bridgePid,
    stateDir,
    stderr: () => stderr.tail,
    stderrBytes: () => stderr.bytes,
    run: async (args, timeoutMs = 120_000) =>
      CallToolResultSchema.parse(
        await client.callTool({ name: 'run_python', arguments: args }, undefined, {
          timeout: timeoutMs,
        }),
      ),
    close: async () => {
      await client.close();
      if (state.owned) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the built bridge (`dist/src/main.js run`) as a real child process and connects
 * the real MCP SDK client to it over stdio, as Claude Desktop would.
 */
export async function startBridge(options: BridgeOptions): Promise<BridgeHandle> {
  const state = makeStateDir(options);
  const { stateDir } = state;
  const transport = new StdioClientTransport({
    ...bridgeCommand(options),
    env: bridgeEnv(options, stateDir),
    stderr: 'pipe',
  });
  const stderr = new StderrRecord();
  transport.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
  return connect(transport, () => transport.pid, state, stderr, options);
}

/**
 * Like startBridge, but over a minimal stdio transport of our own that keeps the child
 * process, so a test can see its exit code. `close()` only ends its stdin (the SDK's
 * transport escalates to SIGTERM after 2 s, which would hide a bridge that ignores EOF).
 */
export async function startBridgeProcess(options: BridgeOptions): Promise<BridgeProcessHandle> {
  const state = makeStateDir(options);
  const { stateDir } = state;
  const { command, args } = bridgeCommand(options);
  const child = spawn(command, args, {
    env: bridgeEnv(options, stateDir),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exit = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stderr = new StderrRecord();
  child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
  const handle = await connect(
    new ChildProcessTransport(child),
    () => child.pid,
    state,
    stderr,
    options,
  );
  return { ...handle, exit };
}

class ChildProcessTransport implements Transport {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #buffer = new ReadBuffer();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
  }

  start(): Promise<void> {
    this.#child.stdout.on('data', (chunk: Buffer) => {
      this.#buffer.append(chunk);
      for (let message = this.#buffer.readMessage(); message;) {
        this.onmessage?.(message);
        message = this.#buffer.readMessage();
      }
    });
    this.#child.once('close', () => this.onclose?.());
    this.#child.stdin.on('error', (error) => this.onerror?.(error));
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.stdin.write(serializeMessage(message))) resolve();
      else this.#child.stdin.once('drain', resolve);
    });
  }

  close(): Promise<void> {
    this.#child.stdin.end();
    return Promise.resolve();
  }
}

/** The text of a result's first content item. */
export function resultText(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

export interface StructuredPayload {
  status?: string;
  summary?: string;
  exitCode?: number;
  stdout?: string[];
  stderr?: string[];
  error?: string;
  timeoutSeconds?: number;
  notices?: string[];
}

export function payloadOf(result: CallToolResult): StructuredPayload {
  const structured: StructuredPayload = result.structuredContent ?? {};
  return structured;
}

/** The status as the payload reports it: compact mode omits `success`. */
export function statusOf(result: CallToolResult): string {
  return payloadOf(result).status ?? 'success';
}

/** Everything the agent is told about a result: its text and its structured payload. */
export function describeResult(result: CallToolResult): string {
  return `${resultText(result)}\n${JSON.stringify(result.structuredContent)}`;
}

/** A line the bridge logged (pino JSON on its stderr): the message and its fields. */
export interface BridgeLogLine {
  msg: string;
  time: number;
  ms?: number;
  err?: string;
}

/** The bridge's pino lines so far. */
export function logLines(bridge: Pick<BridgeHandle, 'stderr'>): BridgeLogLine[] {
  return bridge
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BridgeLogLine);
}

/** Parses the last stdout line that starts with `prefix` as JSON (what the code printed). */
export function printedJson<T>(result: CallToolResult, prefix = 'JSON '): T {
  const line = (payloadOf(result).stdout ?? []).findLast((text) => text.startsWith(prefix));
  if (line === undefined) throw new Error(`no '${prefix}' line in: ${describeResult(result)}`);
  return JSON.parse(line.slice(prefix.length)) as T;
}

/** The containers (running or not) whose owner-pid label is `pid`. */
export async function containersOwnedBy(
  docker: Dockerode,
  pid: number,
): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${OWNER_PID_LABEL}=${pid}`] },
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A /proc/<pid>/status field in bytes, e.g. VmHWM (peak resident memory). */
export function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
