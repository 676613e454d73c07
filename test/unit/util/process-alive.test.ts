import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it, expect } from 'vitest';
import { processIsAlive } from '../../../src/util/process-alive.js';

describe('processIsAlive', () => {
  it('is true for this process', () => {
    expect(processIsAlive(process.pid)).toBe(true);
  });

  it('is true for a running child and false once it has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      stdio: 'ignore',
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('the child process did not start');
    const exited = once(child, 'exit');
    try {
      expect(processIsAlive(pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    expect(processIsAlive(pid)).toBe(false);
  });

  it('is false for a pid no process can have', () => {
    // Above Linux's pid_max limit (4194304).
    expect(processIsAlive(2 ** 22 + 1)).toBe(false);
  });
});
