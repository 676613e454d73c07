import { describe, expect, it } from 'vitest';
import { frameAllowedFrom } from '../../../src/session/sandbox-link.js';

describe('frameAllowedFrom', () => {
  it('takes everything from stdout while no lane is in use', () => {
    for (const type of ['ready', 'stdout', 'done', 'rpc_request', 'log', 'exited'] as const)
      expect(frameAllowedFrom(type, 'stdout', false)).toBe(true);
  });

  it("with the lane in use, takes only the watcher's frames from stdout", () => {
    expect(frameAllowedFrom('exited', 'stdout', true)).toBe(true);
    expect(frameAllowedFrom('log', 'stdout', true)).toBe(true);
    for (const type of ['ready', 'stdout', 'stderr', 'done', 'rpc_request'] as const)
      expect(frameAllowedFrom(type, 'stdout', true)).toBe(false);
  });

  it('never takes exited from the lane (the watcher does not write there)', () => {
    expect(frameAllowedFrom('exited', 'lane', true)).toBe(false);
    expect(frameAllowedFrom('done', 'lane', true)).toBe(true);
  });
});
