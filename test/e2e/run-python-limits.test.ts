import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  procStatusBytes,
  resultText,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';

/**
 * Code that runs into a limit (processes, memory, time, output): the call ends with a
 * clear result and the session goes on, in the same sandbox or, when it could not be
 * saved, in a fresh one that the result announces.
 */

const MiB = 1024 * 1024;

/** A session-state marker: set it, then check which sandbox the next call runs in. */
const STATE_PROBE = 'print("marker" in globals() and marker)';

/** Prints `JSON {pid: state}` for every process but init, the watcher and the runner. */
const SESSION_PROCESSES = String.raw`
import json, os
spared = {1, os.getppid(), os.getpid()}
found = {}
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) not in spared:
        try:
            stat = open(f"/proc/{name}/stat").read()
        except OSError:
            continue
        found[name] = stat[stat.rfind(")") + 2:].split()[0]
print("JSON " + json.dumps(found))
`;

describeEachEngineAndGvisor('run_python limits', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('reports a memory bomb as out of memory, naming the limit; the next call runs fresh', async () => {
    await bridge.run({ code: 'marker = "before the memory bomb"' });
    const bomb = await bridge.run({ code: 'x = bytearray(2 * 1024**3)', timeout: 30 });
    const payload = payloadOf(bomb);
    expect(bomb.isError).toBe(true);
    expect(payload.status, describeResult(bomb)).toBe('error');
    expect(payload.error).toMatch(/out of memory/i);
    expect(payload.error).toContain('512 MiB');
    expect(payload.error).toContain('MCP_BRIDGE_MEMORY');
    expect(payload.error).toMatch(/state was lost/);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(statusOf(next), describeResult(next)).toBe('success');
    // A fresh sandbox: the marker set before the bomb is gone.
    expect(payloadOf(next).stdout).toEqual(['False']);
  });

  it('kills a C-level loop that ignores the interrupt; the next call runs fresh', async () => {
    await bridge.run({ code: 'marker = "before the C loop"' });
    const started = Date.now();
    const loop = await bridge.run({ code: 'sum(range(10**11))', timeout: 2 });
    const elapsed = Date.now() - started;
    const payload = payloadOf(loop);
    expect(payload.status, describeResult(loop)).toBe('timeout');
    expect(payload.summary).toBe('Timeout: execution exceeded 2s');
    expect(payload.timeoutSeconds).toBe(2);
    expect(payload.error).toMatch(/ignored the interrupt/);
    expect(payload.error).toMatch(/state \(variables, imports\) was lost/);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(15_000);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual(['False']);
  });

  it('interrupts time.sleep at the timeout and keeps the state', async () => {
    await bridge.run({ code: 'marker = "before the sleep"' });
    const started = Date.now();
    const slept = await bridge.run({ code: 'import time\ntime.sleep(30)', timeout: 2 });
    const elapsed = Date.now() - started;
    const payload = payloadOf(slept);
    expect(payload.status, describeResult(slept)).toBe('timeout');
    expect(payload.summary).toBe('Timeout: execution exceeded 2s');
    expect(payload.timeoutSeconds).toBe(2);
    expect(payload.error).toMatch(/state \(variables, imports\) was kept/);
    expect((payload.stderr ?? []).join('\n')).toMatch(/time\.sleep\(30\)[\s\S]*KeyboardInterrupt/);
    expect(resultText(slept)).toMatch(/^status: timeout\n/);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(6000);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(payloadOf(next).stdout).toEqual(['before the sleep']);
  });

  it('truncates a 300 MB print flood with a marker, promptly, with bounded bridge memory', async () => {
    await bridge.run({ code: 'marker = "before the flood"' });
    const floodBytes = 300 * MiB;
    const peakBefore = procStatusBytes(bridge.pid, 'VmHWM');
    const started = Date.now();
    // Half through print (the sandbox's writer), half straight to fd 1 (the pipe).
    const flood = await bridge.run({
      code: [
        'import os',
        'line = "x" * (1024 * 1024 - 1)',
        'raw = b"y" * (1024 * 1024)',
        'for _ in range(150):',
        '    print(line)',
        'for _ in range(150):',
        '    os.write(1, raw)',
      ].join('\n'),
      timeout: 60,
    });
    const elapsed = Date.now() - started;
    const peakAfter = procStatusBytes(bridge.pid, 'VmHWM');
    const payload = payloadOf(flood);
    expect(payload.status ?? 'success', describeResult(flood).slice(-2000)).toBe('success');
    const stdout = payload.stdout ?? [];
    const marker = stdout.at(-1) ?? '';
    expect(marker).toMatch(
      /^\[output truncated: [\d,]+ more characters dropped; the limit is 1,048,576 per stream per call \(MCP_BRIDGE_OUTPUT_LIMIT\)\]$/,
    );
    const kept = stdout.slice(0, -1).join('\n').length;
    const dropped = Number(/truncated: ([\d,]+)/.exec(marker)?.[1]?.replaceAll(',', ''));
    expect(kept).toBeLessThanOrEqual(MiB);
    // Everything past the 1 MiB cap was counted, none of it returned.
    expect(dropped).toBeGreaterThanOrEqual(floodBytes - MiB);
    expect(elapsed).toBeLessThan(30_000);
    // The flood never reached the bridge's memory.
    expect(peakAfter - peakBefore).toBeLessThan(64 * MiB);
    expect(peakAfter).toBeLessThan(400 * MiB);

    const next = await bridge.run({ code: STATE_PROBE });
    expect(payloadOf(next).stdout).toEqual(['before the flood']);
  });
  // Last: if the bomb outlives its call (a bug), it cannot disturb the other tests.
  it('contains a fork bomb: the call returns, the bomb dies with it, the state is kept', async () => {
    await bridge.run({ code: 'marker = "before the fork bomb"' });
    const started = Date.now();
    const bomb = await bridge.run({ code: 'import os\nwhile True:\n    os.fork()', timeout: 20 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(['error', 'timeout']).toContain(statusOf(bomb));
    // Under gVisor each process costs the sandbox about 5 MiB more than under runc (its
    // own copy of the pages fork shares; measured 258 MiB for 50 sleeping processes, 17
    // under runc), so the bomb reaches the 512 MiB memory limit before RLIMIT_NPROC
    // (src/container/gvisor-limits.ts): the host ends the whole sandbox, the call says
    // so, and the next call runs in a fresh one.
    const gvisor = engine.ociRuntime === 'runsc';
    if (gvisor) {
      expect(payloadOf(bomb).error, describeResult(bomb)).toMatch(/^Out of memory\b.*Under gVisor/);
    }
    const stderr = (payloadOf(bomb).stderr ?? []).join('\n');
    if (!gvisor) {
      expect(stderr, describeResult(bomb)).toMatch(
        /BlockingIOError: \[Errno 11\] Resource temporarily unavailable/,
      );
    }
    // Only the cell's own frames: none of the runner's code shows in what forks print.
    expect(stderr).not.toContain('/sandbox/mcp_sandbox');

    // Nothing the bomb started is left, running or as a zombie holding a pid.
    let strays: Record<string, string> = {};
    const cleared = await waitFor(
      async () => {
        strays = printedJson(await bridge.run({ code: SESSION_PROCESSES }));
        return Object.keys(strays).length === 0;
      },
      5000,
      250,
    );
    expect(cleared, `processes left by the bomb (pid: state): ${JSON.stringify(strays)}`).toBe(
      true,
    );

    const next = await bridge.run({
      code: `import subprocess\n${STATE_PROBE}\nprint(subprocess.run(["true"]).returncode)`,
    });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout).toEqual([gvisor ? 'False' : 'before the fork bomb', '0']);
    expect(payloadOf(next).stderr ?? []).toEqual([]);
  });
});
