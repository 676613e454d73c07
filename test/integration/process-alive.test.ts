import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it, expect } from 'vitest';
import { processIsAlive } from '../../src/util/process-alive.js';

describe('processIsAlive on a child process', () => {
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
});
