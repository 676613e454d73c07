import { defineConfig } from 'vitest/config';

/**
 * Two test files at a time: container tests spend most of their time waiting on an engine
 * or a sleeping sandbox, so two streams halve the wall time on a 2-core machine. Tests
 * therefore look only at their own bridge's containers (by owner pid), never all of them.
 * MCP_BRIDGE_TEST_WORKERS=1 runs files one after another (e.g. to read a failure's log).
 */
const workers = Number(process.env.MCP_BRIDGE_TEST_WORKERS ?? '') || 2;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: workers > 1,
    maxWorkers: workers,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
