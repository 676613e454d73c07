import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';
import { expectFreshSession, expectSessionKept, setMarker } from '../support/session-marker.js';

/**
 * How the bridge words a sandbox that ended with exit code 137 under gVisor, without the
 * watcher's word (the host's OOM killer ends gVisor the same way, so it says "most
 * likely"), or, when the engine's exit code is not read in time, as lost.
 */
const GVISOR_KILLED =
  /Out of memory, most likely: the sandbox was killed \(exit code 137\).*a kill from outside|sandbox container was removed or its connection/;

/**
 * User code turning on the processes that run it (the runner, its watcher, the init
 * process) and on the paths it can write: the call ends with a clear result, nothing
 * outside the sandbox is touched, and the next call works (in the same sandbox when the
 * attack did no harm, in a fresh one, announced, when it killed the session).
 */

/** Sends `signal` to `target` (a Python expression for a pid) and reports what followed. */
function signalCode(target: string, signal: string): string {
  return String.raw`
import os, signal, time
try:
    os.kill(${target}, signal.${signal})
    print("sent")
except OSError as error:
    print("refused:", error.strerror)
time.sleep(0.5)
print("still running")
`;
}

/** The folders of a bridge's socket lane on the host, with what each holds. */
function laneFolders(bridgePid: number): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const name of readdirSync(os.tmpdir())) {
    if (name.startsWith(`mcp-bridge-lane-${bridgePid}-`)) {
      const folder = path.join(os.tmpdir(), name);
      found[folder] = readdirSync(folder);
    }
  }
  return found;
}

/** Every file under `root` with its size and modification time, but the call history. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.startsWith('history.sqlite3')) {
        const info = statSync(full);
        files[full] = `${info.size}@${info.mtimeMs}`;
      }
    }
  };
  walk(root);
  return files;
}

const SYMLINK_TRICKS = String.raw`
import errno, json, os, socket
def attempt(fn):
    try:
        return "allowed: %r" % (fn(),)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error))
def write(path):
    with open(path, "w") as f:
        f.write("planted")
    return "written"
def read(path):
    with open(path, "rb") as f:
        return len(f.read(100))
def target(fd):
    try:
        return os.readlink("/proc/self/fd/" + fd)
    except OSError:  # the descriptor listdir itself used
        return ""
# The lane's socket; without a lane (gVisor) the channel is the runner's stdout.
channel = max((int(fd) for fd in os.listdir("/proc/self/fd") if target(fd).startswith("socket:")), default=1)
links = {
    "lane": "/run/mcp-bridge",
    "lane-socket": "/run/mcp-bridge/channel.sock",
    "channel-fd": "/proc/self/fd/%d" % channel,
    "runner-mem": "/proc/self/mem",
    "init-root": "/proc/1/root",
    "shadow": "/etc/shadow",
    "cgroup": "/sys/fs/cgroup",
    "up": "../../../../../..",
    "loop-a": "/workspace/loop-b",
    "loop-b": "/workspace/loop-a",
    "dangling": "/nonexistent/file",
}
report = {}
for folder in ("/tmp", "/workspace"):
    for name, target in links.items():
        os.symlink(target, os.path.join(folder, name))
w = "/workspace/"
report["write into the lane folder"] = attempt(lambda: write(w + "lane/planted"))
report["write over the lane socket"] = attempt(lambda: write(w + "lane-socket"))
report["read /etc/shadow"] = attempt(lambda: read(w + "shadow"))
report["write /etc/passwd through init's root"] = attempt(lambda: write(w + "init-root/etc/passwd"))
report["write the memory limit"] = attempt(lambda: write(w + "cgroup/memory/memory.limit_in_bytes"))
report["write /etc through .."] = attempt(lambda: write(w + "up/etc/planted"))
report["follow the loop"] = attempt(lambda: read(w + "loop-a"))
report["write a dangling link"] = attempt(lambda: write(w + "dangling"))
report["hard link /etc/passwd"] = attempt(lambda: os.link("/etc/passwd", w + "passwd"))
report["hard link across tmpfs"] = attempt(lambda: os.link(w + "loop-a", "/tmp/cross", follow_symlinks=False))
os.mkfifo(w + "fifo")
report["fifo"] = "made"
with socket.socket(socket.AF_UNIX) as s:
    s.bind(w + "listening.sock")
    report["socket file"] = "bound"
report["workspace"] = sorted(os.listdir("/workspace"))
print("JSON " + json.dumps(report))
`;

describeEachEngineAndGvisor('attacks on the runner and its paths', (engine) => {
  let bridge: BridgeHandle;
  /**
   * Under gVisor the bridge offers no socket lane (gVisor connects to no host socket):
   * frames use stdin/stdout, as with MCP_BRIDGE_CHANNEL=stdio. Each difference this makes,
   * and each of gVisor's own kernel, is named where it is asserted.
   */
  const gvisor = engine.ociRuntime === 'runsc';

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  const lethal = [
    ['SIGTERM', 15],
    ['SIGKILL', 9],
    ['SIGSEGV', 11],
  ] as const;
  for (const [name, number] of lethal) {
    it(`reports the runner killing itself with ${name}; the next call runs fresh`, async () => {
      await setMarker(bridge, `before ${name}`);
      const killed = await bridge.run({ code: signalCode('os.getpid()', name) });
      const payload = payloadOf(killed);
      expect(payload.status, describeResult(killed)).toBe('error');
      expect(payload.error).toMatch(new RegExp(`killed by signal ${number}\\b`));
      expect(payload.error).toMatch(/state was lost; the next call starts a fresh sandbox/);
      await expectFreshSession(bridge);
    });
  }

  it('ignores SIGINT and SIGPIPE the runner sends itself; the state is kept', async () => {
    await setMarker(bridge, 'before SIGINT');
    for (const name of ['SIGINT', 'SIGPIPE']) {
      const result = await bridge.run({ code: signalCode('os.getpid()', name) });
      expect(payloadOf(result).stdout, describeResult(result)).toEqual(['sent', 'still running']);
    }
    await expectSessionKept(bridge, 'before SIGINT');
  });

  it('ends a call whose runner stopped itself (SIGSTOP) at the timeout; the next call runs fresh', async () => {
    await setMarker(bridge, 'before SIGSTOP');
    const stopped = await bridge.run({ code: signalCode('os.getpid()', 'SIGSTOP'), timeout: 2 });
    const payload = payloadOf(stopped);
    expect(payload.status, describeResult(stopped)).toBe('timeout');
    expect(payload.error).toMatch(/killed and restarted: the session state .* was lost/);
    await expectFreshSession(bridge);
  });

  it('keeps running when the watcher or init is stopped, or init is sent SIGKILL', async () => {
    if (gvisor) {
      // gVisor's kernel delivers signals sent from inside to init, SIGKILL too (Linux
      // drops those init has no handler for): init dies and the sandbox with it. That is
      // the sandbox ending itself, which it can anyway: the call says the state was lost
      // and the next runs fresh. (Exit code 137 under gVisor reads as a likely OOM kill:
      // the bridge cannot tell one from any other SIGKILL there; GVISOR_KILLED.)
      await setMarker(bridge, 'before SIGKILL to init');
      const killed = await bridge.run({ code: signalCode('1', 'SIGKILL') });
      expect(payloadOf(killed).status, describeResult(killed)).toBe('error');
      expect(payloadOf(killed).error).toMatch(GVISOR_KILLED);
      expect(payloadOf(killed).error).toMatch(
        /state was lost; the next call starts a fresh sandbox/,
      );
      await expectFreshSession(bridge);
    }
    await setMarker(bridge, 'before stopping the watcher');
    const stops = [
      ['1', 'SIGSTOP'],
      ['os.getppid()', 'SIGSTOP'],
    ] as const;
    for (const [target, name] of gvisor ? stops : ([['1', 'SIGKILL'], ...stops] as const)) {
      const result = await bridge.run({ code: signalCode(target, name) });
      // Signals from inside to init are dropped by the kernel (it has no handler for them).
      expect(payloadOf(result).stdout, `${target} ${name}: ${describeResult(result)}`).toEqual([
        'sent',
        'still running',
      ]);
    }
    await expectSessionKept(bridge, 'before stopping the watcher');
    if (gvisor) {
      // No lane under gVisor: as on stdin/stdout (next test), the stopped watcher keeps
      // the container's stdout open, so the call's timeout ends it.
      const died = await bridge.run({ code: signalCode('os.getpid()', 'SIGKILL'), timeout: 2 });
      expect(payloadOf(died).status, describeResult(died)).toBe('timeout');
      expect(payloadOf(died).error).toMatch(/killed and restarted: the session state .* was lost/);
      await expectFreshSession(bridge);
      return;
    }
    // With the watcher stopped nobody reports the runner's death: the lane's end does.
    const died = await bridge.run({ code: signalCode('os.getpid()', 'SIGKILL') });
    expect(payloadOf(died).status, describeResult(died)).toBe('error');
    expect(payloadOf(died).error).toMatch(/state was lost; the next call starts a fresh sandbox/);
    await expectFreshSession(bridge);
  });

  // Under gVisor every bridge runs on stdin/stdout (no lane), so the test above has just
  // ended the same way: this one would only repeat it, and is not registered there.
  const stdioOnly = gvisor ? undefined : it;
  stdioOnly?.(
    'on stdin/stdout, ends a call whose runner died under a stopped watcher at the timeout',
    async () => {
      // Without the lane, the stopped watcher keeps the container's stdout open: no end of
      // stream tells the bridge; the call's timeout does.
      const stdio = await startBridge({
        dockerHost: engine.dockerHost,
        env: { ...engine.bridgeEnv, MCP_BRIDGE_CHANNEL: 'stdio' },
      });
      try {
        await setMarker(stdio, 'before the silent death');
        const result = await stdio.run({
          code: 'import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nos.kill(os.getpid(), signal.SIGKILL)',
          timeout: 2,
        });
        const payload = payloadOf(result);
        expect(payload.status, describeResult(result)).toBe('timeout');
        expect(payload.error).toMatch(/killed and restarted: the session state .* was lost/);
        await expectFreshSession(stdio);
      } finally {
        await stdio.close();
      }
    },
  );

  it('reports SIGTERM to the watcher or init (forwarded to the runner), SIGKILL to the watcher', async () => {
    for (const [target, name, said] of [
      ['os.getppid()', 'SIGTERM', /killed by signal 15\b/],
      ['1', 'SIGTERM', /killed by signal 15\b/],
      // The container ends with its watcher; whether the engine's exit code is read in
      // time decides which of the two the message says. Under gVisor exit code 137
      // reads as a likely OOM kill, and says a kill looks the same (GVISOR_KILLED).
      [
        'os.getppid()',
        'SIGKILL',
        gvisor ? GVISOR_KILLED : /sandbox container (was killed|was removed or its connection)/,
      ],
    ] as const) {
      await setMarker(bridge, `before ${name} to ${target}`);
      const result = await bridge.run({ code: signalCode(target, name) });
      const payload = payloadOf(result);
      expect(payload.status, `${target} ${name}: ${describeResult(result)}`).toBe('error');
      expect(payload.error).toMatch(said);
      expect(payload.error).toMatch(/state was lost; the next call starts a fresh sandbox/);
      await expectFreshSession(bridge);
    }
  });

  it('kills only its own sandbox with kill(-1, SIGKILL): other sandboxes and host processes of the same uid live', async () => {
    const neighbour = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
    let hostSleeper: ChildProcess | undefined;
    try {
      await setMarker(neighbour, 'the neighbour');
      // A host process with the sandbox user's uid, if we may start one.
      if (process.getuid?.() === 0) {
        hostSleeper = spawn('sleep', ['300'], { uid: 65534, gid: 65534, stdio: 'ignore' });
      }
      const hostPid = hostSleeper?.pid ?? 0;
      await setMarker(bridge, 'before kill -1');
      const result = await bridge.run({
        code: String.raw`
import errno, os, signal, time
try:
    os.kill(${hostPid}, 0)
    print("host pid visible")
except OSError as error:
    print("host pid", errno.errorcode[error.errno])
os.kill(-1, signal.SIGKILL)
time.sleep(60)  # the runner is spared (the caller), until its container ends
`,
        timeout: 90,
      });
      const payload = payloadOf(result);
      expect(payload.status, describeResult(result)).toBe('error');
      expect(payload.error).toMatch(/state was lost; the next call starts a fresh sandbox/);
      await expectFreshSession(bridge);
      await expectSessionKept(neighbour, 'the neighbour');
      if (hostSleeper) {
        expect(hostSleeper.exitCode).toBeNull();
        expect(hostSleeper.signalCode).toBeNull();
        expect(() => process.kill(hostPid, 0)).not.toThrow();
      }
    } finally {
      hostSleeper?.kill('SIGKILL');
      await neighbour.close();
    }
  });

  it('gets nothing out of closing or replacing its standard descriptors', async () => {
    await setMarker(bridge, 'before closing stdio');
    const closed = await bridge.run({
      code: 'import os, sys\nnull = os.open("/dev/null", os.O_WRONLY)\nos.dup2(null, 1)\nos.close(2)\nos.close(0)\nsys.stdout.close()\nprint("lost")',
    });
    expect(statusOf(closed), describeResult(closed)).toBe('success');
    const next = await bridge.run({
      code: 'import os, subprocess, sys\nprint("printed")\nos.write(1, b"written\\n")\nsubprocess.run(["echo", "from a child"])\nprint("err", file=sys.stderr)',
    });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual([
      'printed',
      'written',
      'from a child',
    ]);
    expect(payloadOf(next).stderr).toEqual(['err']);
    await expectSessionKept(bridge, 'before closing stdio');
  });

  it('plants links, loops, FIFOs and sockets in writable paths without reaching the host', async () => {
    await setMarker(bridge, 'before the symlinks');
    const lanesBefore = laneFolders(bridge.pid);
    const stateBefore = snapshot(bridge.stateDir);
    // Under gVisor there is no lane, so no lane folder on the host at all.
    expect(Object.values(lanesBefore), 'the lane folder, its socket already unlinked').toEqual(
      gvisor ? [] : [[]],
    );
    const result = await bridge.run({ code: SYMLINK_TRICKS });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const report = printedJson<Record<string, unknown>>(result);
    // gVisor checks a file's permissions before the mount's read-only flag (Linux the
    // other way round): EACCES for root's files, not EROFS. There is no lane folder to
    // write into, and gVisor's /sys/fs/cgroup is empty (the limits are on runsc's host
    // processes): ENOENT.
    const readOnly = gvisor ? 'EACCES' : 'EROFS';
    const laneOrCgroup = gvisor ? 'ENOENT' : 'EROFS';
    expect(report).toMatchObject({
      'write into the lane folder': laneOrCgroup,
      'write over the lane socket': laneOrCgroup,
      'read /etc/shadow': 'EACCES',
      "write /etc/passwd through init's root": readOnly,
      'write the memory limit': laneOrCgroup,
      'write /etc through ..': readOnly,
      'follow the loop': 'ELOOP',
      'write a dangling link': 'ENOENT',
      'hard link /etc/passwd': 'EXDEV',
      'hard link across tmpfs': 'EXDEV',
      fifo: 'made',
      'socket file': 'bound',
    });
    // Nothing on the host changed: the lane folder (mounted read-only) and the state dir.
    expect(laneFolders(bridge.pid)).toEqual(lanesBefore);
    expect(snapshot(bridge.stateDir)).toEqual(stateBefore);
    // The runner lives among them: the cwd is /workspace, where the links are.
    const next = await bridge.run({
      code: 'import json, os, subprocess\nprint(json.dumps(sorted(os.listdir("."))[:3]))\nprint(subprocess.run(["true"]).returncode)',
    });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual([
      '["cgroup", "channel-fd", "dangling"]',
      '0',
    ]);
    await expectSessionKept(bridge, 'before the symlinks');
  });
});
