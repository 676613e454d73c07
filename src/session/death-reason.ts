import type { ExitedFrame } from '../channel/frames.js';
import { formatByteSize } from '../config/byte-size.js';
import type { ContainerExit } from '../container/sandbox-container.js';

const SIGKILL = 9;
const SIGTERM = 15;

/**
 * Explains why a sandbox died, for the user. Out-of-memory is recognised from the
 * watcher's cgroup reading, or the engine's flag, never from the flag alone: Podman 4.3
 * reports OOMKilled=false even for real OOM kills (measured; Docker 20.10 reports them).
 */
export function describeSandboxDeath(input: {
  exited: ExitedFrame | undefined;
  exit: ContainerExit | undefined;
  memoryLimitBytes: number;
  /** The sandbox ran under gVisor (runsc): see the exit code 137 case. */
  gvisor?: boolean;
}): { message: string; outOfMemory: boolean } {
  const { exited, exit, memoryLimitBytes } = input;
  const limit = formatByteSize(exited?.memoryLimitBytes ?? memoryLimitBytes);
  if (input.gvisor && !exited && (exit?.engineOomKilled || exit?.exitCode === 137)) {
    // The host's OOM killer ends gVisor itself (its sandbox process), so no watcher is
    // left to say so; Docker flags it, Podman never does (measured: dmesg shows the
    // memory cgroup killing runsc's process at the limit, exit code 137).
    const certain = exit.engineOomKilled;
    return {
      message:
        `${certain ? 'Out of memory' : 'Out of memory, most likely'}: the sandbox was killed (exit code ${exit.exitCode}). ` +
        `Under gVisor the host kills the whole sandbox when its code uses more than the ${limit} memory limit (MCP_BRIDGE_MEMORY)` +
        `${certain ? '' : '; a kill from outside (docker/podman kill or rm) looks the same'}. The session state was lost; the next call starts a fresh sandbox.`,
      outOfMemory: true,
    };
  }
  if (exited?.oomKilled || exit?.engineOomKilled) {
    return {
      message: `Out of memory: the code used more than the sandbox's ${limit} memory limit (MCP_BRIDGE_MEMORY) and the Python process was killed. The session state was lost; the next call starts a fresh sandbox.`,
      outOfMemory: true,
    };
  }
  if (exited) {
    const how =
      exited.signal !== null
        ? `was killed by signal ${exited.signal}${signalNote(exited.signal)}`
        : `exited with status ${exited.exitCode ?? 'unknown'}`;
    return {
      message: `The sandbox's Python process ${how}. The session state was lost; the next call starts a fresh sandbox.`,
      outOfMemory: false,
    };
  }
  if (exit?.engineUnreachable) {
    return {
      message: `Lost the connection to the container engine (${exit.engineUnreachable}): its API service stopped or restarted during the call, and the sandbox was lost with it. The session state was lost; the next call starts a fresh sandbox once the engine answers again.`,
      outOfMemory: false,
    };
  }
  const code = exit?.exitCode;
  const detail =
    code === undefined
      ? 'was removed or its connection was lost'
      : code === 137
        ? 'was killed (exit code 137: SIGKILL from outside, e.g. docker/podman kill or rm)'
        : `stopped with exit code ${code}`;
  return {
    message: `The sandbox container ${detail}. The session state was lost; the next call starts a fresh sandbox.`,
    outOfMemory: false,
  };
}

const STATE_LOST = 'the session state (variables, imports) was lost.';

/**
 * Why the bridge killed a sandbox whose cell outlived its timeout by `graceSeconds`:
 * `unread` when frames sent to it (the interrupt among them) were still waiting, so it
 * never saw the interrupt.
 */
export function timeoutKillMessage(graceSeconds: number, unread: boolean): string {
  return unread
    ? `The sandbox stopped reading its channel (what the bridge sent it, the interrupt too, was still waiting ${graceSeconds}s after the timeout), so it was killed and restarted: ${STATE_LOST}`
    : `The code ignored the interrupt for ${graceSeconds}s (e.g. a long C-level loop), so the sandbox was killed and restarted: ${STATE_LOST}`;
}

/** Why the bridge killed a sandbox that left more than `capBytes` of frames unread. */
export function stoppedReadingMessage(capBytes: number): string {
  return `The sandbox stopped reading its channel: more than ${formatByteSize(capBytes)} of frames were waiting for it (its code kept the runner from reading, or asked for more than it read), so it was killed and restarted: ${STATE_LOST}`;
}

function signalNote(signal: number): string {
  if (signal === SIGKILL) return ' (SIGKILL)';
  // What an engine sends when the container is stopped, or when the engine shuts down.
  if (signal === SIGTERM) {
    return ' (SIGTERM: the container was stopped from outside, e.g. `docker stop`, or its engine shut down)';
  }
  return '';
}
