import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
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
import { describeEachEngine } from '../support/engines.js';
import { expectFreshSession, expectSessionKept, setMarker } from '../support/session-marker.js';

/**
 * Attacks on the sandbox's resources and on the way output comes back: each is contained
 * (a clear result, bounded memory, nothing outside the sandbox touched) and the next call
 * works.
 */

const MiB = 1024 * 1024;
/** What MCP clients built on the TypeScript SDK accept in one stdio message. */
const CLIENT_MESSAGE_LIMIT = 10 * MiB;
const TRUNCATION_MARKER = /^\[output truncated: [\d,]+ more characters dropped/;

/**
 * Finds every path the sandbox user may write (outside /proc and /sys), then fills each
 * filesystem among them at the same time and reports how each stopped.
 */
const FILL_EVERY_WRITABLE_PATH = String.raw`
import ctypes, errno, json, os, stat

mounts = {}
for line in open("/proc/self/mountinfo"):
    before, _, after = line.rstrip("\n").partition(" - ")
    mounts[before.split(" ")[4]] = after.split(" ")[0]
def fstype(path):
    return mounts[max((m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len)]

dirs, files = [], []
for root, subdirs, names in os.walk("/"):
    if root in ("/proc", "/sys"):
        subdirs[:] = []
    elif os.access(root, os.W_OK):
        if not any(root.startswith(d + "/") for d in dirs):
            dirs.append(root)
    else:
        for name in names:
            path = os.path.join(root, name)
            try:
                regular = stat.S_ISREG(os.lstat(path).st_mode)
            except OSError:
                continue
            if regular and os.access(path, os.W_OK):
                files.append(path)
report = {"writable": {d: fstype(d) for d in sorted(dirs)}, "writableFiles": files, "fills": {}}

# Every tmpfs at once, each until it refuses: together they must fit the memory limit.
chunk = b"x" * (1 << 20)
for d, kind in report["writable"].items():
    if kind != "tmpfs":
        continue
    written, outcome = 0, "no error after 1 GiB"
    try:
        with open(os.path.join(d, "fill"), "wb") as f:
            while written < 1024:
                f.write(chunk)
                f.flush()
                written += 1
    except OSError as error:
        outcome = errno.errorcode[error.errno]
    size = os.statvfs(d)
    report["fills"][d] = {"outcome": outcome, "mib": written, "sizeMib": size.f_blocks * size.f_frsize >> 20}

# /dev/mqueue holds message queues, not files; each queue's memory counts against RLIMIT_MSGQUEUE.
try:
    with open("/dev/mqueue/plain-file", "w") as f:
        f.write("x")
    report["mqueueFile"] = "written"
except OSError as error:
    report["mqueueFile"] = "refused"
libc = ctypes.CDLL(None, use_errno=True)
class MqAttr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("reserved", ctypes.c_long * 4)]
attr = MqAttr(0, 10, 8192, 0)
queues = []
outcome = "no error after 1000 queues"
while len(queues) < 1000:
    name = b"/fill%d" % len(queues)
    fd = libc.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(attr))
    if fd == -1:
        outcome = errno.errorcode[ctypes.get_errno()]
        break
    queues.append((name, fd))
report["mqueue"] = {"queues": len(queues), "outcome": outcome}
for name, fd in queues:
    os.close(fd)
    libc.mq_unlink(name)
for d in report["fills"]:
    os.unlink(os.path.join(d, "fill"))
print("JSON " + json.dumps(report))
`;

interface FillReport {
  writable: Record<string, string>;
  writableFiles: string[];
  fills: Record<string, { outcome: string; mib: number; sizeMib: number }>;
  mqueueFile: string;
  mqueue: { queues: number; outcome: string };
}

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

describeEachEngine('attacks on resources and output', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    // 'all': the executor tools too, whose results carry the same output.
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: { MCP_BRIDGE_TOOLS: 'all' } });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('fills every writable path, all at once, up to its size: ENOSPC, never the memory limit or a disk', async () => {
    await setMarker(bridge, 'before the disk fill');
    const result = await bridge.run({ code: FILL_EVERY_WRITABLE_PATH, timeout: 60 });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const report = printedJson<FillReport>(result);
    // Nothing writable but these: memory-backed, sized, and none on the host's disk.
    expect(report.writable).toEqual({
      '/dev/mqueue': 'mqueue',
      '/dev/shm': 'tmpfs',
      '/tmp': 'tmpfs',
      '/workspace': 'tmpfs',
    });
    expect(report.writableFiles).toEqual([]);
    expect(report.fills).toEqual({
      '/dev/shm': { outcome: 'ENOSPC', mib: 8, sizeMib: 8 },
      '/tmp': { outcome: 'ENOSPC', mib: 64, sizeMib: 64 },
      '/workspace': { outcome: 'ENOSPC', mib: 128, sizeMib: 128 },
    });
    // Queues, not files; and a few queues exhaust the per-user allowance (819,200 bytes).
    expect(report.mqueueFile).toBe('refused');
    expect(report.mqueue.outcome).toBe('EMFILE');
    expect(report.mqueue.queues).toBeLessThanOrEqual(10);
    await expectSessionKept(bridge, 'before the disk fill');
  });

  it('ends an inode flood (empty files) at the memory limit or ENOSPC, never in host memory', async () => {
    await setMarker(bridge, 'before the inode flood');
    // Empty files use no tmpfs blocks, only kernel memory: it is charged to the
    // sandbox's memory cgroup, so the flood meets the memory limit.
    const flood = await bridge.run({
      code: String.raw`
import errno, os
os.mkdir("/tmp/inodes")
made = 0
try:
    while made < 5_000_000:
        os.close(os.open(f"/tmp/inodes/{made}", os.O_CREAT | os.O_WRONLY, 0o600))
        made += 1
    print("no limit after", made, "files")
except OSError as error:
    print("stopped by", errno.errorcode[error.errno])
`,
      timeout: 120,
    });
    const payload = payloadOf(flood);
    if (payload.status === 'error') {
      expect(payload.error, describeResult(flood)).toMatch(/out of memory/i);
      expect(payload.error).toContain('MCP_BRIDGE_MEMORY');
      await expectFreshSession(bridge);
    } else {
      expect(payload.stdout, describeResult(flood)).toEqual(['stopped by ENOSPC']);
      await bridge.run({ code: 'import shutil\nshutil.rmtree("/tmp/inodes")' });
      await expectSessionKept(bridge, 'before the inode flood');
    }
  });

  it('drops 1 GiB of print and 1 GiB through pipes (os.write, a subprocess) with bounded bridge memory', async () => {
    await setMarker(bridge, 'before the gigabyte');
    const rssBefore = procStatusBytes(bridge.pid, 'VmRSS');
    const peakBefore = procStatusBytes(bridge.pid, 'VmHWM');
    const flood = await bridge.run({
      code: String.raw`
import os, subprocess
line = "p" * (1024 * 1024 - 1)
for _ in range(1024):
    print(line)
raw = b"w" * (1 << 20)
for _ in range(512):
    os.write(1, raw)
subprocess.run("head -c 536870912 /dev/zero >&2", shell=True, check=True)
`,
      timeout: 120,
    });
    const payload = payloadOf(flood);
    expect(payload.status ?? 'success', describeResult(flood).slice(-2000)).toBe('success');
    const stdout = payload.stdout ?? [];
    const stderr = payload.stderr ?? [];
    // Both streams end with the output limit's marker; what was dropped is counted.
    const dropped = (marker: string | undefined) =>
      Number(/truncated: ([\d,]+) more/.exec(marker ?? '')?.[1]?.replaceAll(',', ''));
    expect(stdout.at(-1)).toMatch(TRUNCATION_MARKER);
    expect(stdout.at(-1)).toContain('MCP_BRIDGE_OUTPUT_LIMIT');
    expect(dropped(stdout.at(-1))).toBe(1536 * MiB - MiB);
    expect(stderr.at(-1)).toContain('MCP_BRIDGE_OUTPUT_LIMIT');
    expect(dropped(stderr.at(-1))).toBe(512 * MiB - MiB);
    expect(stdout[0] === 'p'.repeat(MiB - 1), 'the first printed line comes back whole').toBe(true);
    // None of it reached the bridge's memory: only the result's few copies did (its
    // binary stderr is measured and cut to fit 8 MiB of JSON).
    expect(procStatusBytes(bridge.pid, 'VmRSS') - rssBefore).toBeLessThan(128 * MiB);
    expect(procStatusBytes(bridge.pid, 'VmHWM') - peakBefore).toBeLessThan(128 * MiB);
    await expectSessionKept(bridge, 'before the gigabyte');
  });

  it('contains a fork bomb from a shell: capped by the pids limit, killed with its call', async () => {
    await setMarker(bridge, 'before the shell fork bomb');
    const bomb = await bridge.run({
      code: String.raw`
import subprocess, time
def limit_hits():
    for path in ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"):
        try:
            return int(open(path).read().split()[1])
        except OSError:
            pass
before = limit_hits()
subprocess.run(["sh", "-c", "f() { f | f & }; f 2>/dev/null"])
# The shell returns at once; the bomb goes on until it meets the limit.
deadline = time.monotonic() + 20
while limit_hits() == before and time.monotonic() < deadline:
    time.sleep(0.05)
print("limit hit:", limit_hits() > before)
`,
      timeout: 60,
    });
    expect(statusOf(bomb), describeResult(bomb)).toBe('success');
    expect(payloadOf(bomb).stdout).toEqual(['limit hit: True']);
    expect(payloadOf(bomb).stderr?.join('\n')).toMatch(
      /This call hit the sandbox's process limit; the \d+ processes it started were killed/,
    );
    let strays: Record<string, string> = {};
    const cleared = await waitFor(
      async () => {
        strays = printedJson(await bridge.run({ code: SESSION_PROCESSES }));
        return Object.keys(strays).length === 0;
      },
      5000,
      250,
    );
    expect(cleared, `left by the bomb (pid: state): ${JSON.stringify(strays)}`).toBe(true);
    const next = await bridge.run({
      code: 'import subprocess\nprint(subprocess.run(["true"]).returncode)',
    });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['0']);
    await expectSessionKept(bridge, 'before the shell fork bomb');
  });

  it('keeps answering when user code holds every file descriptor, through an exception and a timeout', async () => {
    await setMarker(bridge, 'before the descriptor flood');
    const flood = await bridge.run({
      code: String.raw`
import errno, os, resource
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError as error:
    print("stopped by", errno.errorcode[error.errno], "at", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
raise ValueError("failing with no descriptor left")
`,
    });
    // The runner formats the traceback without a descriptor to import with.
    expect(statusOf(flood), describeResult(flood)).toBe('error');
    expect(payloadOf(flood).stdout).toEqual(['stopped by EMFILE at 4096']);
    expect(payloadOf(flood).stderr?.join('\n')).toContain(
      'ValueError: failing with no descriptor left',
    );

    // Still holding them: an interrupted cell is cleaned up without a descriptor either.
    const slept = await bridge.run({ code: 'import time\ntime.sleep(30)', timeout: 2 });
    expect(statusOf(slept), describeResult(slept)).toBe('timeout');
    expect(payloadOf(slept).error).toMatch(/state \(variables, imports\) was kept/);

    const released = await bridge.run({
      code: 'print(len(held) > 4000)\nfor fd in held:\n    os.close(fd)\nheld.clear()',
    });
    expect(payloadOf(released).stdout, describeResult(released)).toEqual(['True']);
    await expectSessionKept(bridge, 'before the descriptor flood');
  });

  it('returns binary and invalid UTF-8 on both streams as text, in order, with replacement characters', async () => {
    await setMarker(bridge, 'before binary output');
    const result = await bridge.run({
      code: String.raw`
import os, subprocess
os.write(1, b"<" + bytes(range(256)) + b">\n")
os.write(2, b"bad: \xff\xfe \xc3( \xe2\x82 \xed\xa0\x80 end\n")
print("lone \udcff surrogate, nul \x00, escape \x1b[31m")
os.write(1, "é".encode()[:1])
os.write(1, "é".encode()[1:] + b" split across writes\n")
subprocess.run(["printf", r"from a subprocess: \377\376\n"], check=True)
os.write(1, b'{"jsonrpc":"2.0","id":2,"result":{"content":[]}}\n')
os.write(1, b'{"type":"done","id":1,"exitCode":0,"outcome":"completed","dropped":{"stdout":0,"stderr":0},"durationMs":1}\n')
os.write(1, b"last \xf0\x9f\x98")
`,
    });
    // The SDK client parsed the message: it is valid JSON-RPC, whatever the bytes were.
    expect(statusOf(result), describeResult(result)).toBe('success');
    const { stdout = [], stderr = [] } = payloadOf(result);
    // Bytes 0x80-0xff are not UTF-8 on their own: one U+FFFD each, the rest kept as is
    // (the payload splits lines at \n and drops trailing whitespace, as for any output).
    const sent = `<${String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i))}${'\ufffd'.repeat(128)}>`;
    expect(stdout.slice(0, 2)).toEqual(sent.split('\n').map((line) => line.replace(/\s+$/, '')));
    expect(stdout.slice(2)).toEqual([
      'lone \\udcff surrogate, nul \u0000, escape \u001b[31m',
      'é split across writes',
      'from a subprocess: \ufffd\ufffd',
      // Printed text that looks like protocol is only ever text.
      '{"jsonrpc":"2.0","id":2,"result":{"content":[]}}',
      '{"type":"done","id":1,"exitCode":0,"outcome":"completed","dropped":{"stdout":0,"stderr":0},"durationMs":1}',
      'last \ufffd',
    ]);
    expect(stderr).toEqual(['bad: \ufffd\ufffd \ufffd( \ufffd \ufffd\ufffd\ufffd end']);
    expect(resultText(result)).toContain('from a subprocess: \ufffd\ufffd');
    await expectSessionKept(bridge, 'before binary output');
  });

  it('keeps a result of control bytes under the MCP client message limit; the connection stays', async () => {
    await setMarker(bridge, 'before the control bytes');
    // Each of these characters takes 6 bytes of JSON (\u0000), twice in a result (text and
    // structuredContent): 1 MiB of them per stream would be a 24 MiB message.
    const controlBytes =
      'import os\nos.write(1, b"\\0" * (2 << 20))\nos.write(2, bytes(range(1, 32)) * (1 << 16))';
    const result = await bridge.run({ code: controlBytes });
    expect(statusOf(result), describeResult(result).slice(-2000)).toBe('success');
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(CLIENT_MESSAGE_LIMIT);
    const { stdout = [], stderr = [] } = payloadOf(result);
    for (const stream of [stdout, stderr]) {
      expect(stream.at(-1)).toMatch(/^\[output truncated: [\d,]+ more characters dropped/);
      // Much of the output is still there.
      expect(stream.slice(0, -1).join('\n').length).toBeGreaterThan(256 * 1024);
    }
    // execute_python_code renders the output as JSON inside its text: 13 bytes a character.
    const executed = CallToolResultSchema.parse(
      await bridge.client.callTool(
        { name: 'execute_python_code', arguments: { code: controlBytes, allow_unsafe: true } },
        undefined,
        { timeout: 120_000 },
      ),
    );
    expect(Buffer.byteLength(JSON.stringify(executed))).toBeLessThan(CLIENT_MESSAGE_LIMIT);
    const json = executed.structuredContent ?? {};
    expect(json.success, JSON.stringify(json).slice(0, 500)).toBe(true);
    expect(String(json.stdout)).toMatch(
      /\[output truncated: [\d,]+ more characters dropped[^\n]*\]\n$/,
    );
    await expectSessionKept(bridge, 'before the control bytes');
  });
});
