import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxFrameSchema } from '../../src/channel/frames.js';
import { SandboxProcess, type Frame } from '../support/sandbox-process.js';

/**
 * runtime.progress() in the runner (sandbox/mcp/_progress.py, sandbox/mcp_sandbox/progress.py)
 * on the host's python3: the frames it sends for the running cell, their rate bound, and
 * the errors for bad values (docs/protocol.md, "Progress").
 */

describe('runtime.progress in the runner', () => {
  let sandbox: SandboxProcess;

  beforeAll(async () => {
    sandbox = new SandboxProcess();
    await sandbox.takeType('ready');
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  function progressFrames(id: number): Frame[] {
    const frames = sandbox.unread.filter((frame) => frame.type === 'progress' && frame.id === id);
    for (const frame of frames) sandbox.unread.splice(sandbox.unread.indexOf(frame), 1);
    return frames;
  }

  it('sends one frame for the running cell, valid for the host, and says so', async () => {
    const id = sandbox.start('from mcp import runtime\nprint(runtime.progress(3, 10, "file 3"))');
    const result = await sandbox.finish(id);
    expect(result.stdout).toBe('True\n');
    const frames = progressFrames(id);
    expect(frames).toEqual([{ type: 'progress', id, progress: 3, total: 10, message: 'file 3' }]);
    expect(sandboxFrameSchema.safeParse(frames[0]).success).toBe(true);
  });

  it('sends at most one frame per 50 ms however often it is called', async () => {
    const id = sandbox.start(
      [
        'import time',
        'from mcp import runtime',
        'start = time.monotonic()',
        'sent = sum(runtime.progress(i, 10**5) for i in range(10**5))',
        'print(sent, time.monotonic() - start)',
      ].join('\n'),
    );
    const result = await sandbox.finish(id);
    const [sent, seconds] = result.stdout.trim().split(' ').map(Number);
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(Math.floor((seconds ?? 0) / 0.05) + 1);
    expect(progressFrames(id)).toHaveLength(sent ?? -1);
  });

  it('refuses values that are not finite numbers, and cuts long messages', async () => {
    const id = sandbox.start(
      [
        'import time',
        'from mcp import runtime',
        'for args in [(float("nan"),), ("1",), (1, float("-inf")), (1, 2, b"bytes")]:',
        '    try:',
        '        runtime.progress(*args)',
        '    except (TypeError, ValueError) as error:',
        '        print(type(error).__name__)',
        'time.sleep(0.06)',
        'print(runtime.progress(2.5, None, "m" * 1000))',
      ].join('\n'),
    );
    const result = await sandbox.finish(id);
    expect(result.stdout).toBe('ValueError\nTypeError\nValueError\nTypeError\nTrue\n');
    expect(progressFrames(id)).toEqual([
      { type: 'progress', id, progress: 2.5, message: 'm'.repeat(200) },
    ]);
  });
});
