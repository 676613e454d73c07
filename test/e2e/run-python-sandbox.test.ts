import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { isGvisorKernel } from '../../src/container/expected-facts.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';

/**
 * The confinement as the agent's own code sees it, through run_python (the container
 * tests in hardening-engine.test.ts check the same settings without the bridge).
 */

const EPERM = 1;
const EROFS = 30;
const EACCES = 13;
const ENETUNREACH = 101;
const EHOSTUNREACH = 113;

const CONFINEMENT = String.raw`
import ctypes, errno, json, os, socket
status = dict(line.rstrip("\n").split(":\t", 1) for line in open("/proc/self/status"))
# gVisor prints no NoNewPrivs line: ask its kernel (prctl PR_GET_NO_NEW_PRIVS).
no_new_privs = status.get("NoNewPrivs") or str(ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))
def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except OSError as error:
        return {"ok": False, "errno": error.errno}
def connect():
    with socket.create_connection(("1.1.1.1", 53), timeout=3):
        return "connected"
def write(path):
    with open(path, "w") as f:
        f.write("hello")
    return open(path).read()
print("JSON " + json.dumps({
    "uid": os.getuid(), "gid": os.getgid(),
    "capEff": status["CapEff"], "noNewPrivs": no_new_privs, "seccomp": status["Seccomp"],
    "net": sorted(os.listdir("/sys/class/net")),
    "connect": attempt(connect),
    "root": attempt(lambda: write("/probe.txt")),
    "etc": attempt(lambda: write("/etc/probe.txt")),
    "workspace": attempt(lambda: write("/workspace/probe.txt")),
    "cwd": os.getcwd(), "home": os.environ.get("HOME"),
}))
`;

/** Each denied call runs in a child interpreter, so one that got through changes nothing here. */
const SECCOMP = String.raw`
import json, subprocess, sys
probe = r'''
import ctypes, json, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
keyctl = {"x86_64": 250, "aarch64": 219}[platform.machine()]
def call(fn):
    ctypes.set_errno(0)
    ret = fn()
    return {"ret": ret, "errno": ctypes.get_errno() if ret == -1 else 0}
print(json.dumps({
    "unshare(CLONE_NEWUSER)": call(lambda: libc.unshare(0x10000000)),
    "keyctl(GET_KEYRING_ID)": call(lambda: libc.syscall(ctypes.c_long(keyctl), ctypes.c_long(0), ctypes.c_long(-3), ctypes.c_long(0))),
    "socket(AF_VSOCK)": call(lambda: libc.socket(40, 1, 0)),
}))
'''
child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=20)
print("JSON " + child.stdout.strip())
print(child.stderr, file=sys.stderr)
`;

describeEachEngineAndGvisor('run_python sandbox confinement', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('runs user code under gVisor exactly when MCP_BRIDGE_OCI_RUNTIME=runsc', async () => {
    const result = await bridge.run({
      code: 'import json, os\nu = os.uname()\nprint("JSON " + json.dumps({"release": u.release, "version": u.version}))',
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const kernel = printedJson<{ release: string; version: string }>(result);
    expect(isGvisorKernel(kernel), JSON.stringify(kernel)).toBe(engine.ociRuntime === 'runsc');
  });

  it('runs user code unprivileged, without network, on a read-only root', async () => {
    const result = await bridge.run({ code: CONFINEMENT });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<Record<string, unknown>>(result);
    // gVisor checks the directory's permissions before the mount's read-only flag (Linux
    // the other way round): EACCES, not EROFS. Nothing is written either way; the bridge
    // saw / read-only in the sandbox's facts before this code ran.
    const readOnly = engine.ociRuntime === 'runsc' ? EACCES : EROFS;
    expect(seen).toMatchObject({
      uid: 65534,
      gid: 65534,
      capEff: '0000000000000000',
      noNewPrivs: '1',
      seccomp: '2',
      net: ['lo'],
      root: { ok: false, errno: readOnly },
      etc: { ok: false, errno: readOnly },
      workspace: { ok: true, value: 'hello' },
      cwd: '/workspace',
      home: '/workspace',
    });
    // Only loopback: no route to anywhere else. gVisor's network stack (runsc
    // --network=none: loopback only) says EHOSTUNREACH where Linux says ENETUNREACH.
    const unreachable = engine.ociRuntime === 'runsc' ? EHOSTUNREACH : ENETUNREACH;
    expect(seen.connect).toEqual({ ok: false, errno: unreachable });
  });

  it('denies namespace, keyring and vsock calls from user code with EPERM', async () => {
    const result = await bridge.run({ code: SECCOMP });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(printedJson(result)).toEqual({
      'unshare(CLONE_NEWUSER)': { ret: -1, errno: EPERM },
      'keyctl(GET_KEYRING_ID)': { ret: -1, errno: EPERM },
      'socket(AF_VSOCK)': { ret: -1, errno: EPERM },
    });
  });

  it('fails a 100 MB write to /tmp with ENOSPC, and the session carries on', async () => {
    const result = await bridge.run({
      code: String.raw`
import errno, os
before_fill = "kept"
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        for _ in range(100):
            f.write(b"x" * (1 << 20))
            f.flush()
            written += 1
    print("wrote everything")
except OSError as error:
    print("OSError", errno.errorcode[error.errno], "after", written, "MiB")
finally:
    if os.path.exists("/tmp/fill"):
        os.unlink("/tmp/fill")
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const line = payloadOf(result).stdout?.[0] ?? '';
    expect(line).toMatch(/^OSError ENOSPC after \d+ MiB$/);
    // The tmpfs is 64 MiB: the write stopped near it, not at the memory limit.
    expect(Number(/after (\d+)/.exec(line)?.[1])).toBeLessThanOrEqual(64);

    const next = await bridge.run({ code: 'print(before_fill, written)' });
    expect(statusOf(next), describeResult(next)).toBe('success');
    expect(payloadOf(next).stdout?.[0]).toMatch(/^kept \d+$/);
    expect(payloadOf(next).notices ?? []).toEqual([]);
  });
});
