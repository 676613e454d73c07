import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { SocketLane } from '../../src/channel/socket-lane.js';
import { loadSandboxSources, type GeneratedModules } from '../../src/session/boot-modules.js';

/** A frame as the runner wrote it (checked against the host's schemas by the tests). */
export type Frame = Record<string, unknown> & { type: string };

export const SANDBOX_DIR = path.resolve(import.meta.dirname, '../../sandbox');

/**
 * The boot frame's `modules`, built the way the host builds them: every
 * `sandbox/mcp_sandbox/**\/*.py`, `__init__.py` naming its package.
 */
export function bootModules(
  root = SANDBOX_DIR,
  top = 'mcp_sandbox',
): Record<string, { source: string; package: boolean }> {
  const modules: Record<string, { source: string; package: boolean }> = {};
  const walk = (dir: string, dotted: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file, `${dotted}.${entry.name}`);
      else if (entry.name === '__init__.py')
        modules[dotted] = { source: readFileSync(file, 'utf8'), package: true };
      else if (entry.name.endsWith('.py'))
        modules[`${dotted}.${entry.name.slice(0, -3)}`] = {
          source: readFileSync(file, 'utf8'),
          package: false,
        };
    }
  };
  walk(path.join(root, top), top);
  return modules;
}

export interface ExecuteResult {
  stdout: string;
  stderr: string;
  /** The stdout/stderr frames in arrival order. */
  output: Frame[];
  done: Frame;
}

export interface StartOptions {
  /** Raw bytes written to stdin before the boot frame (e.g. attach garbage). */
  preamble?: string;
  /** Command prefix, e.g. ['prlimit', '--nproc=64']. */
  wrapper?: string[];
  /** The interpreter; default `python3` from PATH. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Host data modules, as the bridge generates them (e.g. `mcp._capabilities`). */
  generated?: GeneratedModules;
  /** A socket lane to offer in the boot frame; frames then travel over it once it is taken. */
  lane?: SocketLane;
}

/** An `rpc_request` frame's fields the tests read. */
export type RpcRequest = Frame & { id: number; execId: number; payload: Record<string, unknown> };

/** What a test answers to a request; `undefined` leaves it unanswered (for now). */
export type RpcReply =
  | { success: true; payload: Record<string, unknown> }
  | { success: false; error: string }
  | undefined;

export interface RpcResult extends ExecuteResult {
  /** The cell's `rpc_request` frames, in arrival order. */
  requests: RpcRequest[];
}

/** The runner as a host process: `python3 -u -c <bootstrap> <nonce>` on pipes, no container. */
export class SandboxProcess {
  readonly nonce = randomBytes(16).toString('hex');
  readonly child: ChildProcessWithoutNullStreams;
  /** Frames received and not yet taken. */
  readonly unread: Frame[] = [];
  /** Lines that were not JSON objects with a string `type` (none expected). */
  readonly badLines: string[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Frames received so far from each source. */
  readonly received = { stdout: 0, lane: 0 };
  /** Partial lines, per source. */
  #buffers = { stdout: '', lane: '' };
  #laneSocket: Socket | undefined;
  #nextId = 1;
  #wake: (() => void)[] = [];

  constructor(options: StartOptions = {}) {
    const bootstrap = readFileSync(path.join(SANDBOX_DIR, 'bootstrap.py'), 'utf8');
    const python = options.python ?? 'python3';
    const [command = python, ...prefix] = [...(options.wrapper ?? []), python];
    this.child = spawn(command, [...prefix, '-u', '-c', bootstrap, this.nonce], {
      cwd: '/tmp',
      env: options.env ?? process.env,
      detached: true, // its own process group, so close() can end whatever it left
    });
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => this.#push(chunk, 'stdout'));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      process.stderr.write(`[sandbox stderr] ${chunk}`);
    });
    this.child.stdin.on('error', () => undefined); // EPIPE after the runner died
    if (options.preamble !== undefined) this.child.stdin.write(options.preamble);
    // Every package under sandbox/ plus the generated modules, as the bridge ships them.
    const { modules, entry } = loadSandboxSources(options.generated ?? {}, SANDBOX_DIR);
    options.lane?.onConnected(({ socket, rest }) => {
      this.#laneSocket = socket;
      this.#push(rest.toString('utf8'), 'lane');
      socket.setEncoding('utf8').on('data', (chunk: string) => this.#push(chunk, 'lane'));
    });
    const lane = options.lane ? { lane: options.lane.offer } : {};
    this.send({ type: 'boot', nonce: this.nonce, modules, entry, ...lane });
  }

  /** The lane's socket, once the runner has connected to it. */
  get laneSocket(): Socket | undefined {
    return this.#laneSocket;
  }

  /** Writes a frame where the bridge would: to the lane once taken, else to stdin. */
  send(frame: Record<string, unknown>): void {
    const line = `${JSON.stringify(frame)}\n`;
    if (this.#laneSocket) this.#laneSocket.write(line);
    else this.writeRaw(line);
  }

  writeRaw(text: string): void {
    this.child.stdin.write(text);
  }

  /** Takes the first unread frame matching `match`, waiting up to `timeoutMs` for it. */
  async take(match: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.unread.findIndex(match);
      if (index >= 0) return this.unread.splice(index, 1)[0] as Frame;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  takeType(type: string, timeoutMs?: number): Promise<Frame> {
    return this.take((frame) => frame.type === type, timeoutMs);
  }

  /** Sends an `execute` frame (with `extra` fields such as `servers`); returns its id. */
  start(code: string, maxOutputChars = 1 << 20, extra: Record<string, unknown> = {}): number {
    const id = this.#nextId++;
    this.send({ ...extra, type: 'execute', id, code, maxOutputChars });
    return id;
  }

  /** Collects the output frames of execution `id` up to its `done`. */
  async finish(id: number, timeoutMs = 20_000): Promise<ExecuteResult> {
    const output: Frame[] = [];
    for (;;) {
      const frame = await this.take((f) => f.id === id && isCellFrame(f), timeoutMs);
      if (frame.type === 'done') {
        const text = (type: string): string =>
          output.map((f) => (f.type === type ? String(f.data) : '')).join('');
        return { stdout: text('stdout'), stderr: text('stderr'), output, done: frame };
      }
      output.push(frame);
    }
  }

  execute(code: string, maxOutputChars?: number): Promise<ExecuteResult> {
    return this.finish(this.start(code, maxOutputChars));
  }

  /**
   * Runs `code` as the host would, answering each of its `rpc_request` frames with
   * `reply` (which may also answer later, or never, through `respond`).
   */
  async executeWithRpc(
    code: string,
    reply: (request: RpcRequest) => RpcReply | Promise<RpcReply>,
    extra: Record<string, unknown> = {},
    timeoutMs = 20_000,
  ): Promise<RpcResult> {
    const id = this.start(code, undefined, extra);
    const output: Frame[] = [];
    const requests: RpcRequest[] = [];
    for (;;) {
      const frame = await this.take(
        (f) => (f.id === id && isCellFrame(f)) || (f.type === 'rpc_request' && f.execId === id),
        timeoutMs,
      );
      if (frame.type === 'rpc_request') {
        const request = frame as RpcRequest;
        requests.push(request);
        this.respond(request, await reply(request));
      } else if (frame.type === 'done') {
        const text = (type: string): string =>
          output.map((f) => (f.type === type ? String(f.data) : '')).join('');
        return { stdout: text('stdout'), stderr: text('stderr'), output, done: frame, requests };
      } else output.push(frame);
    }
  }

  /** Sends the `rpc_response` for `request` (nothing for `undefined`). */
  respond(request: Pick<RpcRequest, 'id'>, reply: RpcReply): void {
    if (reply !== undefined) this.send({ type: 'rpc_response', id: request.id, ...reply });
  }

  /** Ends stdin (the runner then exits) and kills the process group if it lingers. */
  async close(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill('SIGKILL'), 5_000);
    await this.exit;
    clearTimeout(timer);
    this.kill('SIGKILL'); // whatever user code left in the group
  }

  kill(signal: NodeJS.Signals): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  #push(chunk: string, source: 'stdout' | 'lane'): void {
    const lines = (this.#buffers[source] + chunk).split('\n');
    this.#buffers[source] = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue; // the watcher starts its frame with "\n"
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === 'object' && value !== null && 'type' in value) {
          if (typeof value.type === 'string') {
            this.unread.push(value as Frame);
            this.received[source] += 1;
            continue;
          }
        }
      } catch {
        // recorded below
      }
      this.badLines.push(line.slice(0, 200));
    }
    for (const wake of this.#wake.splice(0)) wake();
  }
}

/** Frames that belong to a cell's result (an `rpc_request`'s `id` is its own). */
function isCellFrame(frame: Frame): boolean {
  return ['stdout', 'stderr', 'done', 'image', 'notice'].includes(String(frame.type));
}

/** Waits (up to 5 s) until `pid` is gone or a zombie; false if it still lives. */
export async function processGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    if (/\) Z /.test(stat)) return true;
    await sleep(50);
  }
  return false;
}

/** Pids of the live (not zombie) processes whose real uid is `uid`. */
export function liveProcessesOf(uid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const status = readFileSync(`/proc/${name}/status`, 'utf8');
        return new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status) && !/^State:\s+Z/m.test(status);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Stops, then kills, every process of `uid` (a uid used by nothing but our test). */
export function killAllOf(uid: number): void {
  for (let round = 0; round < 50; round++) {
    const pids = liveProcessesOf(uid);
    if (pids.length === 0) return;
    for (const signal of ['SIGSTOP', 'SIGKILL'] as const)
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
  }
}
