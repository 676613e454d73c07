import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  procStatusBytes,
  REPO_ROOT,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * User code runs in the runner's own process: it can reach the runner's objects, its
 * channel descriptor, and keep the runner from reading what the bridge writes. These
 * attacks flood the bridge through the channel; the bridge must stay small, keep its log
 * short, replace a sandbox that stopped reading, and answer the next call.
 */

const MiB = 1024 * 1024;

/**
 * Finds the runner's channel and pending-call table, and holds the table's lock: the
 * runner's reader threads resolve every answer under it, so they stop at the first answer
 * and read nothing more. `channel._fd` is the runner's end of the channel (the socket
 * lane, or its copy of the container's stdout).
 */
const STOP_THE_RUNNER_READING = String.raw`
import gc, os, sys, time
from mcp_sandbox.protocol import Channel
from mcp_sandbox.rpc import PendingCalls
def find(kind):
    return next(o for o in gc.get_objects() if isinstance(o, kind))
channel, calls = find(Channel), find(PendingCalls)
calls._lock.acquire()
cell = int(sys._getframe().f_code.co_filename[len("<cell-"):-1])
def request(exec_id, payload):
    return b'{"type":"rpc_request","id":1,"execId":%d,"payload":%s}\n' % (exec_id, payload)
`;

/** Requests for a cell that is not running, and for this one (which loaded no servers). */
const FLOOD_REFUSED_REQUESTS = `${STOP_THE_RUNNER_READING}
chunk = (request(10**9, b'{"type":"list_servers"}') + request(cell, b'{"type":"list_servers"}')) * 4000
while True:
    os.write(channel._fd, chunk)
`;

/**
 * Requests the bridge answers in full for this cell (its servers are loaded): each answer
 * lists 3,000 tools (~330 KB). Paced in batches below the bridge's in-flight limit.
 */
const FLOOD_BIG_ANSWERS = `${STOP_THE_RUNNER_READING}
batch = request(cell, b'{"type":"list_tools","server":"big"}') * 40
for _ in range(100):
    os.write(channel._fd, batch)
    time.sleep(0.05)
time.sleep(60)
`;

/** 20,000 forged log frames and 20,000 lines that are no frames, written on the channel. */
const FLOOD_THE_LOG = String.raw`
import gc, os
from mcp_sandbox.protocol import Channel
channel = next(o for o in gc.get_objects() if isinstance(o, Channel))
log = b'{"type":"log","level":"error","message":"%s"}\n' % (b"forged log " * 100)
junk = b"this is no frame " * 60 + b"\n"
for _ in range(20):
    channel.send_line(log * 1000)
for _ in range(20):
    channel.send_line(junk * 1000)
print("flooded")
`;

const STATE_PROBE = 'print(globals().get("marker", "fresh"))';

/** Servers for the flood: `big` lists 3,000 tools, so its list_tools answer is large. */
function writeServersConfig(stateDir: string): void {
  const config = {
    mcpServers: {
      big: {
        command: process.execPath,
        args: [path.join(REPO_ROOT, 'test/fixtures/misbehaving-server.mjs')],
        env: { MISBEHAVE_EXTRA_TOOLS: '3000' },
      },
    },
  };
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
}

for (const channel of ['socket', 'stdio'] as const) {
  describeEachEngine(`channel flood over ${channel}`, (engine) => {
    let bridge: BridgeHandle;
    let stateDir: string;

    beforeAll(async () => {
      stateDir = mkdtempSync(path.join(os.tmpdir(), 'channel-flood-'));
      writeServersConfig(stateDir);
      bridge = await startBridge({
        dockerHost: engine.dockerHost,
        stateDir,
        env: { MCP_BRIDGE_CHANNEL: channel === 'socket' ? 'auto' : 'stdio' },
      });
    });
    afterAll(async () => {
      await bridge?.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    /** Runs `attack` after setting a marker; returns the result and the bridge's growth. */
    const attack = async (code: string, servers: string[] = []) => {
      const ready = await bridge.run({ code: 'marker = "before the flood"' });
      expect(statusOf(ready), describeResult(ready)).toBe('success');
      // The peak of this call alone (VmHWM keeps earlier peaks): sampled while it runs.
      const rssBefore = procStatusBytes(bridge.pid, 'VmRSS');
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, procStatusBytes(bridge.pid, 'VmRSS'));
      }, 50);
      const result = await bridge.run({ code, servers, timeout: 15 }).finally(() => {
        clearInterval(sampler);
      });
      const grown = peak - rssBefore;
      console.log(`[${engine.name}/${channel}] bridge RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
      return { result, grown };
    };

    const expectFreshNextCall = async () => {
      const next = await bridge.run({ code: STATE_PROBE });
      expect(statusOf(next), describeResult(next)).toBe('success');
      expect(payloadOf(next).stdout).toEqual(['fresh']);
    };

    // First: the log is measured from a fresh bridge's.
    it('20,000 forged log frames and 20,000 invalid lines leave a short log; the next call works', async () => {
      const before = bridge.stderrBytes();
      const result = await bridge.run({ code: FLOOD_THE_LOG });
      expect(statusOf(result), describeResult(result)).toBe('success');
      expect(payloadOf(result).stdout).toEqual(['flooded']);
      const logged = bridge.stderrBytes() - before;
      console.log(`[${engine.name}/${channel}] the bridge logged ${logged} bytes`);
      expect(logged).toBeLessThan(512 * 1024);
      const log = bridge.stderr();
      expect(log.match(/further log frames from this sandbox are not logged/g)).toHaveLength(1);
      expect(log.match(/further invalid lines from this sandbox are not logged/g)).toHaveLength(1);
      const next = await bridge.run({ code: 'print(6 * 7)' });
      expect(payloadOf(next).stdout, describeResult(next)).toEqual(['42']);
    });

    it('a sandbox that stops reading and floods requests that are refused: bounded bridge, sandbox replaced', async () => {
      const { result, grown } = await attack(FLOOD_REFUSED_REQUESTS);
      expect(grown).toBeLessThan(64 * MiB);
      // Refusals are budgeted, so the queue stays under its cap: the timeout ends it, and
      // the interrupt, never read, is still waiting.
      expect(statusOf(result), describeResult(result)).toBe('timeout');
      expect(payloadOf(result).error).toMatch(/stopped reading its channel.*state .*was lost/s);
      await expectFreshNextCall();
    });

    it('a sandbox that stops reading while asking for large answers is killed at the queue cap', async () => {
      const { result, grown } = await attack(FLOOD_BIG_ANSWERS, ['big']);
      expect(grown).toBeLessThan(96 * MiB);
      expect(statusOf(result), describeResult(result)).toBe('error');
      expect(payloadOf(result).error).toMatch(
        /stopped reading its channel: more than 16 MiB .*state .*was lost/s,
      );
      await expectFreshNextCall();
    });
  });
}
