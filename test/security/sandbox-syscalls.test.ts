import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';

/**
 * Kernel interfaces the sandbox has no use for, attacked from the agent's own code
 * through run_python: socket families beyond AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK,
 * inotify/fanotify instances (rootless Podman charges them to the host user), and core
 * dumps. hardening-engine.test.ts shows the same calls answer differently without our
 * seccomp filter, so the refusals seen here are the filter's.
 */

const EPERM = 1;
const ALLOWED_FAMILIES = [1, 2, 10, 16]; // AF_UNIX, AF_INET, AF_INET6, AF_NETLINK

/** Raw calls run in a child interpreter: one that did get through changes nothing here. */
const KERNEL_PROBES = String.raw`
import json, subprocess, sys
probe = r'''
import ctypes, json, os, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {
    "x86_64": {"socket": 41, "socketpair": 53, "inotify_init": 253, "inotify_init1": 294, "fanotify_init": 300},
    "aarch64": {"socket": 198, "socketpair": 199, "inotify_init": None, "inotify_init1": 26, "fanotify_init": 262},
}[platform.machine()]

def call(name, *args):
    """{"ok": bool, "errno": n}; a descriptor that was created is closed at once."""
    if NR[name] is None:
        return None
    ctypes.set_errno(0)
    ret = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
    if ret >= 0:
        if name != "socketpair":
            os.close(ret)
        return {"ok": True, "errno": 0}
    return {"ok": False, "errno": ctypes.get_errno()}

def pair(family):
    fds = (ctypes.c_int * 2)(-1, -1)
    result = call("socketpair", family, 1, 0, ctypes.addressof(fds))
    if result["ok"]:  # the kernel writes the numbers before it fails: close only on success
        for fd in fds:
            os.close(fd)
    return result

SOCK_DGRAM = 2
print(json.dumps({
    "families": {str(f): call("socket", f, SOCK_DGRAM, 0) for f in range(64)},
    # The kernel reads the family as a 32-bit int: the filter must too.
    "highBits": {str(f): call("socket", (1 << 32) + f, SOCK_DGRAM, 0) for f in (1, 15, 30, 40)},
    "socketpair": {"AF_UNIX": pair(1), "AF_INET": pair(2), "AF_NETLINK": pair(16)},
    "inotify_init": call("inotify_init"),
    "inotify_init1": call("inotify_init1", 0o2000000),
    # FAN_CLASS_NOTIF | FAN_REPORT_FID: the flags unprivileged users may use.
    "fanotify_init": call("fanotify_init", 0x200, os.O_RDONLY),
}))
'''
child = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
print("JSON " + child.stdout.strip())
print(child.stderr, file=sys.stderr)
`;

/** What the four families are still good for, in ordinary Python. */
const ORDINARY_SOCKETS = String.raw`
import json, socket
def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except OSError as error:
        return {"ok": False, "errno": error.errno, "error": str(error)}
def unix_pair():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"ping")
        return b.recv(4).decode()
def tcp_on_lo(family, host):
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind((host, 0))
        server.listen(1)
        with socket.create_connection(server.getsockname()[:2]) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"pong")
                return peer.recv(4).decode()
def udp6():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        return "created"
print("JSON " + json.dumps({
    "unix": attempt(unix_pair),
    "inet": attempt(lambda: tcp_on_lo(socket.AF_INET, "127.0.0.1")),
    "inet6": attempt(udp6),
    "netlink": attempt(lambda: [name for _, name in socket.if_nameindex()]),
}))
`;

const CORE_DUMPS = String.raw`
import json, os, resource, subprocess, sys
def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except (OSError, ValueError) as error:
        return {"ok": False, "error": str(error)}
before = resource.getrlimit(resource.RLIMIT_CORE)
raised = attempt(lambda: resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, 1 << 20)))
soft_to_hard = attempt(lambda: resource.setrlimit(resource.RLIMIT_CORE, (before[1], before[1])))
# A crash with the largest core limit the sandbox can set: no core file may appear.
crash = subprocess.run(
    [sys.executable, "-c", "import os, resource; h = resource.getrlimit(resource.RLIMIT_CORE)[1]; "
     "resource.setrlimit(resource.RLIMIT_CORE, (h, h)); os.abort()"],
    cwd="/tmp", capture_output=True)
print("JSON " + json.dumps({
    "rlimit": list(before),
    "raised": raised,
    "after": list(resource.getrlimit(resource.RLIMIT_CORE)),
    "crashSignal": -crash.returncode,
    "coreFiles": sorted(name for name in os.listdir("/tmp") if name.startswith("core")),
}))
`;

interface CallOutcome {
  ok: boolean;
  errno: number;
}

describeEachEngineAndGvisor('kernel interfaces the sandbox does not need', (engine) => {
  let bridge: BridgeHandle;

  const run = async (code: string) => {
    const result = await bridge.run({ code });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return result;
  };
  const nextCallWorks = async () => {
    const result = await run('print(6 * 7)');
    expect(describeResult(result)).toContain('42');
  };

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('refuses every socket family but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK', async () => {
    const seen = printedJson<{
      families: Record<string, CallOutcome>;
      highBits: Record<string, CallOutcome>;
      socketpair: Record<string, CallOutcome>;
    }>(await run(KERNEL_PROBES));
    const refused = Object.entries(seen.families)
      .filter(([, outcome]) => !outcome.ok && outcome.errno === EPERM)
      .map(([family]) => Number(family));
    const expected = Array.from({ length: 64 }, (_, f) => f).filter(
      (f) => !ALLOWED_FAMILIES.includes(f),
    );
    expect(refused, JSON.stringify(seen.families)).toEqual(expected);
    for (const family of ALLOWED_FAMILIES)
      expect(seen.families[String(family)], `family ${family}`).toEqual({ ok: true, errno: 0 });
    expect(seen.highBits).toEqual({
      '1': { ok: true, errno: 0 },
      '15': { ok: false, errno: EPERM },
      '30': { ok: false, errno: EPERM },
      '40': { ok: false, errno: EPERM },
    });
    // socketpair: AF_UNIX only (the kernel would say EOPNOTSUPP for the others).
    expect(seen.socketpair).toEqual({
      AF_UNIX: { ok: true, errno: 0 },
      AF_INET: { ok: false, errno: EPERM },
      AF_NETLINK: { ok: false, errno: EPERM },
    });
    await nextCallWorks();
  });

  it('keeps the four families working for ordinary Python', async () => {
    const seen = printedJson(await run(ORDINARY_SOCKETS));
    expect(seen).toEqual({
      unix: { ok: true, value: 'ping' },
      inet: { ok: true, value: 'pong' },
      inet6: { ok: true, value: 'created' },
      netlink: { ok: true, value: ['lo'] },
    });
  });

  it('refuses inotify and fanotify instances', async () => {
    const seen = printedJson<Record<string, CallOutcome | null>>(await run(KERNEL_PROBES));
    expect(seen.inotify_init1).toEqual({ ok: false, errno: EPERM });
    expect(seen.fanotify_init).toEqual({ ok: false, errno: EPERM });
    // inotify_init exists on x86_64 only.
    if (seen.inotify_init !== null) expect(seen.inotify_init).toEqual({ ok: false, errno: EPERM });
    await nextCallWorks();
  });

  it('sets the core dump limit to 0, soft and hard, so no crash leaves a core file', async () => {
    const seen = printedJson<{
      rlimit: number[];
      raised: { ok: boolean };
      after: number[];
      crashSignal: number;
      coreFiles: string[];
    }>(await run(CORE_DUMPS));
    expect(seen.rlimit, JSON.stringify(seen)).toEqual([0, 0]);
    expect(seen.raised.ok, JSON.stringify(seen)).toBe(false);
    expect(seen.after).toEqual([0, 0]);
    expect(seen.crashSignal).toBe(6); // SIGABRT, and no core
    expect(seen.coreFiles).toEqual([]);
    await nextCallWorks();
  });
});
