import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readyFrameSchema } from '../../../src/channel/frames.js';
import { SocketLane, type LaneConnection } from '../../../src/channel/socket-lane.js';
import { SandboxProcess } from '../../support/sandbox-process.js';

const logger = pino({ level: 'silent' });
const parent = mkdtempSync(path.join(os.tmpdir(), 'lane-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The host path of the lane's socket (the sandbox sees it under LANE_MOUNT). */
function hostSocket(lane: SocketLane): string {
  return path.join(lane.hostDir, path.basename(lane.offer.path));
}

/** Connects, sends `hello`, and resolves with whether the lane kept the connection. */
function knock(lane: SocketLane, hello: string): Promise<'kept' | 'closed'> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(hostSocket(lane), () => socket.write(hello));
    socket.on('error', reject);
    socket.on('close', () => resolve('closed'));
    setTimeout(() => {
      socket.destroy();
      resolve('kept');
    }, 300);
  });
}

describe('SocketLane (host side)', () => {
  const lanes: SocketLane[] = [];
  const open = async (): Promise<SocketLane> => {
    const lane = await SocketLane.open(logger, parent);
    lanes.push(lane);
    return lane;
  };
  afterEach(async () => {
    await Promise.all(lanes.splice(0).map((lane) => lane.close()));
  });

  it('listens in a fresh folder others can only traverse, on a socket all may connect to', async () => {
    const lane = await open();
    expect(statSync(lane.hostDir).mode & 0o777).toBe(0o711);
    expect(statSync(hostSocket(lane)).mode & 0o777).toBe(0o666);
    expect(lane.offer.path).toBe('/run/mcp-bridge/channel.sock');
    expect(lane.offer.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a wrong token, a short one and an overlong hello, and keeps listening', async () => {
    const lane = await open();
    const taken: LaneConnection[] = [];
    lane.onConnected((connection) => taken.push(connection));
    expect(await knock(lane, `${'0'.repeat(64)}\n`)).toBe('closed');
    expect(await knock(lane, `${lane.offer.token.slice(0, 10)}\n`)).toBe('closed');
    expect(await knock(lane, 'x'.repeat(200))).toBe('closed');
    expect(taken).toEqual([]);
    expect(existsSync(hostSocket(lane))).toBe(true);
  });

  it('takes the first connection with the token, with what followed it, then lets nobody in', async () => {
    const lane = await open();
    const taken = new Promise<LaneConnection>((resolve) => lane.onConnected(resolve));
    const client = net.connect(hostSocket(lane), () =>
      client.write(`${lane.offer.token}\n{"type":"log"}\n`),
    );
    const connection = await taken;
    expect(connection.rest.toString()).toBe('{"type":"log"}\n');
    // Unlinked: a second sandbox process, or anyone else, finds nothing to connect to.
    expect(existsSync(hostSocket(lane))).toBe(false);
    await expect(
      new Promise((resolve, reject) =>
        net.connect(hostSocket(lane)).on('connect', resolve).on('error', reject),
      ),
    ).rejects.toThrow(/ENOENT/);
    client.destroy();
  });

  it('removes its folder on close, and stale folders of dead bridges when the next opens', async () => {
    const lane = await open();
    await lane.close();
    expect(existsSync(lane.hostDir)).toBe(false);

    const other = mkdtempSync(path.join(os.tmpdir(), 'lane-stale-'));
    const stale = path.join(other, 'mcp-bridge-lane-2147483646-abc');
    const live = path.join(other, `mcp-bridge-lane-${process.pid}-abc`);
    mkdirSync(stale);
    mkdirSync(live);
    const fresh = await SocketLane.open(logger, other);
    await fresh.close();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(other, { recursive: true, force: true });
  });
});

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
    const id = sandbox.start('import time\ntime.sleep(30)');
    await new Promise((resolve) => setTimeout(resolve, 300));
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
