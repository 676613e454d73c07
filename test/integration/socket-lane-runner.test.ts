import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyFrameSchema } from '../../src/channel/frames.js';
import { SocketLane, type LaneConnection } from '../../src/channel/socket-lane.js';
import { SandboxProcess } from '../support/sandbox-process.js';

const logger = pino({ level: 'silent' });
const parent = mkdtempSync(path.join(os.tmpdir(), 'lane-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The host path of the lane's socket (the sandbox sees it under LANE_MOUNT). */
function hostSocket(lane: SocketLane): string {
  return path.join(lane.hostDir, path.basename(lane.offer.path));
}

// The runner (sandbox/) on the host's python3, offered a lane at its host path: frames
// move to the socket; without a reachable socket everything stays on stdin/stdout.
describe('sandbox runner on the socket lane', () => {
  let lane: SocketLane;
  let sandbox: SandboxProcess;

  beforeAll(async () => {
    lane = await SocketLane.open(logger, parent);
    // On the host the socket is not at LANE_MOUNT: offer its host path instead.
    const offer = { ...lane.offer, path: hostSocket(lane) };
    Object.defineProperty(lane, 'offer', { value: offer });
    sandbox = new SandboxProcess({ lane });
    readyFrameSchema.parse(await sandbox.takeType('ready'));
  });
  afterAll(async () => {
    await sandbox.close();
    await lane.close();
  });

  it('says ready over the lane and runs cells, output and RPC through it', async () => {
    expect(sandbox.laneSocket).toBeDefined();
    const result = await sandbox.executeWithRpc(
      'from mcp import runtime\nprint("hi")\nprint(await runtime.list_servers())',
      () => ({ success: true, payload: { servers: ['a', 'b'] } }),
    );
    expect(result.stdout).toBe("hi\n('a', 'b')\n");
    expect(result.requests).toHaveLength(1);
    expect(sandbox.badLines).toEqual([]);
    expect(sandbox.received.stdout).toBe(0);
    expect(sandbox.received.lane).toBeGreaterThanOrEqual(4); // ready, output, request, done
  });

  it('takes interrupts over the lane', async () => {
    const id = sandbox.start('print("started", flush=True)\nimport time\ntime.sleep(30)');
    // Interrupt once the cell runs (its first output), not before.
    await sandbox.take((frame) => frame.id === id && frame.type === 'stdout');
    sandbox.send({ type: 'interrupt', id });
    const { done } = await sandbox.finish(id, 5_000);
    expect(done).toMatchObject({ outcome: 'interrupted' });
  });

  it('exits when the host closes the lane', async () => {
    sandbox.laneSocket?.destroy();
    const exit = await Promise.race([
      sandbox.exit,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 5_000)),
    ]);
    expect(exit).toMatchObject({ code: 0 });
  });
});

describe('sandbox runner offered a lane it cannot reach', () => {
  it('says why in a log frame and works over stdin/stdout', async () => {
    const lane = await SocketLane.open(logger, parent);
    const taken: LaneConnection[] = [];
    lane.onConnected((connection) => taken.push(connection));
    // The offer's path (/run/mcp-bridge/...) does not exist on the host.
    const sandbox = new SandboxProcess({ lane });
    try {
      const log = await sandbox.takeType('log');
      expect(log.message).toMatch(/socket lane unavailable.*\/run\/mcp-bridge\/channel\.sock/);
      readyFrameSchema.parse(await sandbox.takeType('ready'));
      expect((await sandbox.execute('print(6 * 7)')).stdout).toBe('42\n');
      expect(taken).toEqual([]);
      expect(sandbox.received.lane).toBe(0);
    } finally {
      await sandbox.close();
      await lane.close();
    }
  });
});
