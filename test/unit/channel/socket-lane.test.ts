import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SocketLane, type LaneConnection } from '../../../src/channel/socket-lane.js';

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

// The runner (python3) on the lane: test/integration/socket-lane-runner.test.ts.
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
