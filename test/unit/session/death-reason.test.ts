import { describe, it, expect } from 'vitest';
import type { ExitedFrame } from '../../../src/channel/frames.js';
import { describeSandboxDeath } from '../../../src/session/death-reason.js';

const MiB = 1024 * 1024;

function exitedFrame(overrides: Partial<ExitedFrame>): ExitedFrame {
  return {
    type: 'exited',
    nonce: 'abc',
    exitCode: null,
    signal: null,
    oomKilled: false,
    memoryLimitBytes: 512 * MiB,
    ...overrides,
  };
}

describe('describeSandboxDeath', () => {
  it('recognises OOM from the watcher frame even when the engine says no (Podman)', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ signal: 9, oomKilled: true, memoryLimitBytes: 256 * MiB }),
      exit: { exitCode: 137, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(true);
    expect(result.message).toMatch(/out of memory/i);
    // The limit the watcher read inside the container wins over the configured one.
    expect(result.message).toContain('256 MiB');
    expect(result.message).toContain('MCP_BRIDGE_MEMORY');
    expect(result.message).toMatch(/state was lost/);
  });

  it('recognises OOM from the engine flag alone (Docker, no watcher frame)', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 137, engineOomKilled: true },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(true);
    expect(result.message).toContain('512 MiB');
    expect(result.message).toMatch(/state was lost/);
  });

  it('falls back to the configured limit when the watcher could not read one', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ signal: 9, oomKilled: true, memoryLimitBytes: null }),
      exit: undefined,
      memoryLimitBytes: 128 * MiB,
    });
    expect(result.outOfMemory).toBe(true);
    expect(result.message).toContain('128 MiB');
  });

  it('reports a SIGKILL without OOM as a kill, not as out of memory', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ signal: 9, oomKilled: false }),
      exit: { exitCode: 137, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(false);
    expect(result.message).toContain('signal 9 (SIGKILL)');
    expect(result.message).not.toMatch(/memory/i);
    expect(result.message).toMatch(/state was lost/);
  });

  it('names other signals without calling them SIGKILL', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ signal: 11 }),
      exit: undefined,
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.message).toContain('signal 11');
    expect(result.message).not.toContain('SIGKILL');
  });

  it('reports the runner exit status when it exited on its own', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ exitCode: 3 }),
      exit: { exitCode: 3, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(false);
    expect(result.message).toContain('exited with status 3');
  });

  it('explains exit 137 with no watcher frame as a kill from outside', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 137, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(false);
    expect(result.message).toContain('137');
    expect(result.message).toMatch(/killed/);
    expect(result.message).toMatch(/outside/);
    expect(result.message).toMatch(/state was lost/);
  });

  it('under gVisor, explains exit 137 with no watcher frame as most likely out of memory', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 137, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
      gvisor: true,
    });
    expect(result.outOfMemory).toBe(true);
    expect(result.message).toMatch(/^Out of memory, most likely: /);
    expect(result.message).toContain('512 MiB memory limit (MCP_BRIDGE_MEMORY)');
    expect(result.message).toMatch(/kill from outside/);
    const flagged = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 137, engineOomKilled: true },
      memoryLimitBytes: 512 * MiB,
      gvisor: true,
    });
    expect(flagged.outOfMemory).toBe(true);
    expect(flagged.message).toMatch(
      /^Out of memory: the sandbox was killed \(exit code 137\)\. Under gVisor/,
    );
    expect(flagged.message).not.toMatch(/kill from outside/);
    // Any other end under gVisor is told as under runc.
    const stopped = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 2, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
      gvisor: true,
    });
    expect(stopped).toEqual({
      message:
        'The sandbox container stopped with exit code 2. The session state was lost; the next call starts a fresh sandbox.',
      outOfMemory: false,
    });
  });

  it('explains a container that is gone (no exit code known)', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: undefined,
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(false);
    expect(result.message).toMatch(/removed|connection was lost/);
    expect(result.message).toMatch(/state was lost/);
    expect(result.message).toMatch(/next call starts a fresh sandbox/);
  });

  it('reports another container exit code as it is', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: { exitCode: 1, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.message).toContain('exit code 1');
    expect(result.outOfMemory).toBe(false);
  });

  it('says a SIGTERM came from a stop or an engine shutting down', () => {
    const result = describeSandboxDeath({
      exited: exitedFrame({ signal: 15 }),
      exit: { exitCode: 143, engineOomKilled: false },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.message).toContain('signal 15 (SIGTERM');
    expect(result.message).toMatch(/stopped from outside|engine shut down/);
    expect(result.message).toMatch(/state was lost/);
  });

  it('blames the lost engine connection when the engine could not be asked', () => {
    const result = describeSandboxDeath({
      exited: undefined,
      exit: {
        exitCode: undefined,
        engineOomKilled: false,
        engineUnreachable: 'connect ECONNREFUSED /run/podman/podman.sock',
      },
      memoryLimitBytes: 512 * MiB,
    });
    expect(result.outOfMemory).toBe(false);
    expect(result.message).toContain('Lost the connection to the container engine');
    expect(result.message).toContain('connect ECONNREFUSED /run/podman/podman.sock');
    expect(result.message).toMatch(/state was lost/);
    expect(result.message).toMatch(/once the engine answers again/);
  });
});
