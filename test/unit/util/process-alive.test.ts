import { describe, it, expect } from 'vitest';
import { processIsAlive } from '../../../src/util/process-alive.js';

// A child that runs and exits: test/integration/process-alive.test.ts.
describe('processIsAlive', () => {
  it('is true for this process', () => {
    expect(processIsAlive(process.pid)).toBe(true);
  });

  it('is false for a pid no process can have', () => {
    // Above Linux's pid_max limit (4194304).
    expect(processIsAlive(2 ** 22 + 1)).toBe(false);
  });
});
