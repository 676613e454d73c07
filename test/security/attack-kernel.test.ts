import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  containersOwnedBy,
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngineAndGvisor, type TestEngine } from '../support/engines.js';
import { expectSessionKept, setMarker } from '../support/session-marker.js';

/** expect.stringMatching, typed for use inside an expected object. */
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);

/**
 * User code going for the kernel and the host: the container engine's API, raw network
 * access, namespaces, mounts, tracing, keyrings, BPF, io_uring, /proc and /sys, and
 * running what it wrote. Each attempt is made with real arguments, from Python as an
 * agent would write it, and must be refused; then the session carries on.
 */

/** Runs `probe` in a child interpreter, so a call that got through changes nothing here. */
function inChild(probe: string): string {
  return String.raw`
import subprocess, sys
child = subprocess.run([sys.executable, "-c", ${JSON.stringify(probe)}], capture_output=True, text=True, timeout=60)
print(child.stdout.strip())
print(child.stderr, file=sys.stderr)
`;
}

const HELPERS = String.raw`
import ctypes, errno, fcntl, json, os, platform, shutil, socket, stat, struct, subprocess
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def outcome(ret):
    return errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()) if ret == -1 else "returned %d" % ret
def syscall(numbers, *args):
    number = numbers[platform.machine()]
    ctypes.set_errno(0)
    return outcome(libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args]))
def call(name, *args):
    ctypes.set_errno(0)
    return outcome(getattr(libc, name)(*args))
def attempt(fn):
    try:
        return "allowed: %r" % (fn(),)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error))
def address(buffer):
    return ctypes.addressof(buffer)
def command(*argv):
    if shutil.which(argv[0]) is None:
        return "absent"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    said = (done.stdout + done.stderr).strip().splitlines()
    return "exit %d: %s" % (done.returncode, said[0] if said else "")
report = {}
`;

const ENGINE_API = String.raw`
import errno, json, os, socket, stat
def attempt(fn):
    try:
        return "allowed: %r" % (fn(),)
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error))
def unix(path):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(3)
        s.connect(path)
        s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
        return s.recv(100)
def tcp(host, port):
    with socket.create_connection((host, port), timeout=3) as s:
        return "connected"
report = {"unix": {}, "tcp": {}}
for path in ("/run/podman/podman.sock", "/var/run/podman/podman.sock", "/var/run/docker.sock",
             "/run/docker.sock", "/run/containerd/containerd.sock", "/run/user/0/podman/podman.sock",
             "/run/mcp-bridge/channel.sock"):
    report["unix"][path] = attempt(lambda: unix(path))
# The socket names the kernel lists in this network namespace (the lane's, by its host path).
with open("/proc/net/unix") as table:
    for line in table.read().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 7:
            report["unix"]["listed " + fields[7]] = attempt(lambda: unix(fields[7]))
for host, port in (("127.0.0.1", 2375), ("127.0.0.1", 2376), ("172.17.0.1", 2375),
                   ("10.88.0.1", 2375), ("169.254.169.254", 80)):
    report["tcp"]["%s:%d" % (host, port)] = attempt(lambda: tcp(host, port))
sockets = []
for root, dirs, files in os.walk("/"):
    if root in ("/proc", "/sys"):
        dirs[:] = []
        continue
    for name in files + dirs:
        try:
            if stat.S_ISSOCK(os.lstat(os.path.join(root, name)).st_mode):
                sockets.append(os.path.join(root, name))
        except OSError:
            pass
report["socketFiles"] = sockets
report["laneFolder"] = attempt(lambda: os.listdir("/run/mcp-bridge"))
print("JSON " + json.dumps(report))
`;

const NETWORK =
  HELPERS +
  String.raw`
for label, family, kind, proto in (
    ("AF_PACKET SOCK_RAW", socket.AF_PACKET, socket.SOCK_RAW, 0x0300),
    ("AF_PACKET SOCK_DGRAM", socket.AF_PACKET, socket.SOCK_DGRAM, 0x0300),
    ("AF_INET SOCK_RAW ICMP", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    ("AF_INET SOCK_RAW IPPROTO_RAW", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
    ("AF_INET6 SOCK_RAW ICMPV6", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6),
):
    report[label] = attempt(lambda: socket.socket(family, kind, proto).close())
# A netlink socket opens (reading routes needs no privilege), but changing a link does:
# ask the kernel to take the loopback interface down.
def netlink_set_lo_down():
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as nl:
        nl.settimeout(5)
        ifinfo = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, socket.if_nametoindex("lo"), 0, 1)
        header = struct.pack("=IHHII", 16 + len(ifinfo), 16, 1 | 4, 1, 0)  # RTM_NEWLINK, REQUEST|ACK
        nl.send(header + ifinfo)
        answer = nl.recv(4096)
        code = struct.unpack_from("=i", answer, 16)[0]  # nlmsgerr.error: 0 or -errno
        return "acknowledged" if code == 0 else errno.errorcode[-code]
report["netlink RTM_NEWLINK lo down"] = netlink_set_lo_down()
# The interface's flags as the kernel reports them (SIOCGIFFLAGS; gVisor has no
# /sys/class/net/lo/flags): IFF_UP is bit 0.
def lo_flags():
    with socket.socket() as s:
        answer = fcntl.ioctl(s, 0x8913, struct.pack("16sH14x", b"lo", 0))
        return struct.unpack_from("H", answer, 16)[0]
report["lo still up"] = bool(lo_flags() & 1)
print("JSON " + json.dumps(report))
`;

const KERNEL_CALLS =
  HELPERS +
  String.raw`
X = platform.machine()
N = lambda x86_64, aarch64: {"x86_64": x86_64, "aarch64": aarch64}
for name, flag in (("NEWNS", 0x20000), ("NEWUTS", 0x04000000), ("NEWIPC", 0x08000000),
                   ("NEWUSER", 0x10000000), ("NEWPID", 0x20000000), ("NEWNET", 0x40000000),
                   ("NEWCGROUP", 0x02000000), ("NEWTIME", 0x80)):
    report["unshare(CLONE_%s)" % name] = call("unshare", flag)
for ns in ("net", "mnt", "pid", "user", "uts", "ipc", "cgroup"):
    try:
        fd = os.open("/proc/1/ns/" + ns, os.O_RDONLY)
    except FileNotFoundError:  # gVisor lists no file for a namespace it does not have
        report["setns(/proc/1/ns/%s)" % ns] = "ENOENT"
        continue
    report["setns(/proc/1/ns/%s)" % ns] = call("setns", fd, 0)
    os.close(fd)
os.makedirs("/tmp/mnt", exist_ok=True)
report["mount tmpfs on /tmp/mnt"] = call("mount", b"none", b"/tmp/mnt", b"tmpfs", 0, None)
report["bind-mount / on /tmp/mnt"] = call("mount", b"/", b"/tmp/mnt", None, 0x1000, None)
report["remount / read-write"] = call("mount", None, b"/", None, 0x20, None)
report["umount /proc/sys"] = call("umount2", b"/proc/sys", 2)
watcher = os.getppid()
report["ptrace(ATTACH, watcher)"] = syscall(N(101, 117), 16, watcher, 0, 0)
report["ptrace(SEIZE, 1)"] = syscall(N(101, 117), 0x4206, 1, 0, 0)
report["ptrace(TRACEME)"] = syscall(N(101, 117), 0, 0, 0, 0)
local = ctypes.create_string_buffer(64)
iovecs = (ctypes.c_uint64 * 4)(address(local), 64, 0x400000, 64)
report["process_vm_readv(watcher)"] = syscall(N(310, 270), watcher, address(iovecs), 1, address(iovecs) + 16, 1, 0)
report["keyctl(JOIN_SESSION_KEYRING)"] = syscall(N(250, 219), 1, 0, 0, 0)
kind, desc, payload = (ctypes.create_string_buffer(v) for v in (b"user", b"stolen", b"secret"))
report["add_key(user)"] = syscall(N(248, 217), address(kind), address(desc), address(payload), 6, -3)
insns = (ctypes.c_uint64 * 2)(0x00000000000000B7, 0x0000000000000095)  # r0 = 0; exit
license = ctypes.create_string_buffer(b"GPL")
attr = ctypes.create_string_buffer(128)
struct.pack_into("=IIQQ", attr, 0, 1, 2, address(insns), address(license))  # SOCKET_FILTER
report["bpf(PROG_LOAD)"] = syscall(N(321, 280), 5, address(attr), 128)
attr = ctypes.create_string_buffer(128)
struct.pack_into("=IIII", attr, 0, 2, 4, 8, 1)  # an ARRAY map of one entry
report["bpf(MAP_CREATE)"] = syscall(N(321, 280), 0, address(attr), 128)
params = ctypes.create_string_buffer(120)
report["io_uring_setup(8)"] = syscall(N(425, 425), 8, address(params))
perf = ctypes.create_string_buffer(128)
struct.pack_into("=II", perf, 0, 1, 128)  # PERF_TYPE_SOFTWARE, size
report["perf_event_open"] = syscall(N(298, 241), address(perf), 0, -1, -1, 0)
report["userfaultfd"] = syscall(N(323, 282), 0)
report["chroot(/tmp)"] = call("chroot", b"/tmp")
report["setuid(0)"] = call("setuid", 0)
report["mknod(/tmp/sda, block 8:0)"] = call("mknod", b"/tmp/sda", 0o60666, os.makedev(8, 0))
# A device gVisor's kernel implements itself (/dev/net/tun), so a node that got made opens.
report["mknod(/tmp/tun, char 10:200)"] = call("mknod", b"/tmp/tun", 0o20666, os.makedev(10, 200))
report["sethostname"] = call("sethostname", b"owned", 5)
report["reboot(POWER_OFF)"] = syscall(N(169, 142), 0xFEE1DEAD, 672274793, 0x4321FEDC, 0)
report["init_module"] = syscall(N(175, 105), address(payload), 6, address(license))
# The setuid-root tools of the image get no privilege (no_new_privs, no capabilities).
report["unshare -Ur id"] = command("unshare", "-Ur", "id")
report["nsenter -t 1 -n true"] = command("nsenter", "-t", "1", "-n", "true")
report["mount -t tmpfs none /tmp/mnt"] = command("mount", "-t", "tmpfs", "none", "/tmp/mnt")
report["setpriv --reuid=0 id"] = command("setpriv", "--reuid=0", "id")
print("JSON " + json.dumps(report))
`;

const PROC_AND_SYS =
  HELPERS +
  String.raw`
def write(path, text="1"):
    with open(path, "w") as f:
        f.write(text)
    return "written"
def first_readable(*paths):
    for path in paths:
        try:
            return open(path).read().strip()
        except OSError:
            pass
    return None
memory = ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")
pids = ("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max")
limits_before = [first_readable(*memory), first_readable(*pids)]
for path in ("/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
             "/proc/sys/kernel/sysrq", "/proc/sys/net/ipv4/ip_forward", "/proc/sysrq-trigger",
             "/proc/self/uid_map", "/proc/self/setgroups", "/proc/1/attr/current"):
    report[path] = attempt(lambda: write(path))
# A well-formed map, so a refusal is about the right to write it, not the format.
report["/proc/self/uid_map = 0 0 1"] = attempt(lambda: write("/proc/self/uid_map", "0 0 1"))
report["/proc/self/oom_score_adj = -1000"] = attempt(lambda: write("/proc/self/oom_score_adj", "-1000"))
report["/proc/1/oom_score_adj = -1000"] = attempt(lambda: write("/proc/1/oom_score_adj", "-1000"))
for label, paths in (("<memory limit>", memory), ("<pids limit>", pids)):
    path = next((p for p in paths if os.path.exists(p)), paths[0])  # cgroup v1, else v2
    report["/sys/fs/cgroup/" + label] = attempt(lambda: write(path, "max"))
report["new file in /sys/fs/cgroup"] = attempt(lambda: write("/sys/fs/cgroup/owned"))
report["/sys/kernel/mm/transparent_hugepage/enabled"] = attempt(lambda: write("/sys/kernel/mm/transparent_hugepage/enabled", "always"))
report["/sys/class/net/lo/mtu"] = attempt(lambda: write("/sys/class/net/lo/mtu", "1280"))
report["/sys/module/ (new file)"] = attempt(lambda: write("/sys/module/owned"))
report["limits unchanged"] = [first_readable(*memory), first_readable(*pids)] == limits_before
# What the engine masks reads as nothing.
report["masked"] = {path: attempt(lambda: len(open(path, "rb").read())) for path in
                    ("/proc/keys", "/proc/timer_list", "/proc/kcore")}
print("JSON " + json.dumps(report))
`;

const EXECUTE_WRITTEN =
  HELPERS +
  String.raw`
import mmap
for folder in ("/tmp", "/workspace", "/dev/shm"):
    copy = os.path.join(folder, "mytrue")
    shutil.copy("/bin/true", copy)
    os.chmod(copy, 0o755)
    report[folder + " exec"] = attempt(lambda: subprocess.run([copy]).returncode)
    loader = "/lib64/ld-linux-x86-64.so.2" if platform.machine() == "x86_64" else "/lib/ld-linux-aarch64.so.1"
    report[folder + " through ld.so"] = command(loader, copy).split(":")[0]
    def map_exec():
        with open(copy, "rb") as f:
            mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        return "mapped"
    report[folder + " mmap PROT_EXEC"] = attempt(map_exec)
    os.unlink(copy)
print("JSON " + json.dumps(report))
`;

/**
 * oom_score_adj of each host process in the bridge's sandbox container's cgroup (under
 * gVisor: runsc's sandbox, gofer and their threads' processes; under runc: the sandbox's own).
 */
async function hostOomScores(engine: TestEngine, bridgePid: number): Promise<Map<number, string>> {
  const docker = dockerClient(engine.dockerHost);
  const running = (await containersOwnedBy(docker, bridgePid)).filter((c) => c.State === 'running');
  expect(running, 'one running sandbox').toHaveLength(1);
  const pid = (await docker.getContainer(running[0]?.Id ?? '').inspect()).State.Pid;
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((line) => line.split(':')[1] === 'pids');
  const cgroup = (v1 ?? lines.find((line) => line.startsWith('0::')) ?? '').split(':')[2];
  const folder = v1 ? `/sys/fs/cgroup/pids${cgroup}` : `/sys/fs/cgroup${cgroup}`;
  const scores = new Map<number, string>();
  for (const member of readFileSync(`${folder}/cgroup.procs`, 'utf8').trim().split('\n')) {
    try {
      scores.set(Number(member), readFileSync(`/proc/${member}/oom_score_adj`, 'utf8').trim());
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return scores;
}

describeEachEngineAndGvisor('attacks on the kernel and the host', (engine) => {
  let bridge: BridgeHandle;
  /**
   * Under gVisor some refusals come from gVisor's own kernel, with its own errno, and some
   * files do not exist there; each such difference is named where it is asserted.
   */
  const gvisor = engine.ociRuntime === 'runsc';

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  /** Runs `code` (which prints one JSON line), expects success, returns what it printed. */
  async function probe<T>(code: string): Promise<T> {
    const result = await bridge.run({ code, timeout: 60 });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return printedJson<T>(result);
  }

  it('cannot reach the container engine: no socket, no API port, no lane to reconnect to', async () => {
    await setMarker(bridge, 'before the engine hunt');
    const report = await probe<{
      unix: Record<string, string>;
      tcp: Record<string, string>;
      socketFiles: string[];
      laneFolder: string;
    }>(ENGINE_API);
    for (const [path, outcome] of Object.entries(report.unix)) {
      expect(outcome, path).toBe('ENOENT');
    }
    // gVisor (runsc --network=none) has its own network stack with loopback only; it
    // answers a connection to any other address with EHOSTUNREACH where Linux, with only
    // lo in the namespace, says ENETUNREACH. Either way no packet leaves.
    const unreachable = gvisor ? 'EHOSTUNREACH' : 'ENETUNREACH';
    expect(report.tcp).toEqual({
      '127.0.0.1:2375': 'ECONNREFUSED',
      '127.0.0.1:2376': 'ECONNREFUSED',
      '172.17.0.1:2375': unreachable,
      '10.88.0.1:2375': unreachable,
      '169.254.169.254:80': unreachable,
    });
    expect(report.socketFiles).toEqual([]);
    // The lane's folder is mode 0711: the socket's name cannot even be listed. Under
    // gVisor there is no lane at all (gVisor connects to no host socket), so no folder.
    expect(report.laneFolder).toBe(gvisor ? 'ENOENT' : 'EACCES');
    await expectSessionKept(bridge, 'before the engine hunt');
  });

  it('gets no raw or packet socket and cannot reconfigure the network', async () => {
    await setMarker(bridge, 'before the raw sockets');
    expect(await probe(inChild(NETWORK))).toEqual({
      'AF_PACKET SOCK_RAW': 'EPERM',
      'AF_PACKET SOCK_DGRAM': 'EPERM',
      'AF_INET SOCK_RAW ICMP': 'EPERM',
      'AF_INET SOCK_RAW IPPROTO_RAW': 'EPERM',
      'AF_INET6 SOCK_RAW ICMPV6': 'EPERM',
      // gVisor's netlink refuses a change without CAP_NET_ADMIN with EACCES (runsc
      // 20221219; Linux: EPERM). The link stays up either way (next line).
      'netlink RTM_NEWLINK lo down': gvisor ? 'EACCES' : 'EPERM',
      'lo still up': true,
    });
    await expectSessionKept(bridge, 'before the raw sockets');
  });

  it('is refused namespaces, mounts, ptrace, keyrings, BPF, io_uring and other privileged calls', async () => {
    await setMarker(bridge, 'before the syscalls');
    const report = await probe<Record<string, string>>(inChild(KERNEL_CALLS));
    const commands = [
      'unshare -Ur id',
      'nsenter -t 1 -n true',
      'mount -t tmpfs none /tmp/mnt',
      'setpriv --reuid=0 id',
    ];
    // gVisor's /proc/1/ns lists only net, pid and user: there is no file to setns() into
    // for the others (the three it has are refused like every namespace under runc).
    const absentUnderGvisor = [
      'setns(/proc/1/ns/mnt)',
      'setns(/proc/1/ns/uts)',
      'setns(/proc/1/ns/ipc)',
      'setns(/proc/1/ns/cgroup)',
    ];
    for (const [label, outcome] of Object.entries(report)) {
      if (commands.includes(label)) continue;
      if (gvisor && absentUnderGvisor.includes(label)) {
        expect(outcome, label).toBe('ENOENT');
        continue;
      }
      expect(outcome, label).toBe('EPERM');
    }
    expect(Object.keys(report)).toHaveLength(41);
    // The tools fail as the calls under them do ("absent" in an image without them).
    const tool = (label: string, failure: RegExp) =>
      expect(report[label], label).toMatch(new RegExp(`^absent$|${failure.source}`));
    tool('unshare -Ur id', /^exit 1: unshare: unshare failed: Operation not permitted$/);
    tool('nsenter -t 1 -n true', /^exit 1: nsenter: .*Operation not permitted$/);
    tool('mount -t tmpfs none /tmp/mnt', /^exit 32: mount: \/tmp\/mnt: must be superuser/);
    tool('setpriv --reuid=0 id', /^exit 127: setpriv: setresuid failed: Operation not permitted$/);
    await expectSessionKept(bridge, 'before the syscalls');
  });

  it('cannot write kernel settings in /proc or cgroup limits in /sys', async () => {
    // Some files exist only in kernels built with them (magic SysRq, /proc/kcore).
    const absentOr = (...outcomes: string[]) =>
      matching(new RegExp(`^(ENOENT|${outcomes.join('|')})$`));
    await setMarker(bridge, 'before /proc and /sys');
    const hostScoresBefore = await hostOomScores(engine, bridge.pid);
    const report = await probe<Record<string, unknown>>(PROC_AND_SYS);
    if (!gvisor) {
      expect(report).toEqual({
        '/proc/sys/kernel/hostname': 'EROFS',
        '/proc/sys/kernel/core_pattern': 'EROFS',
        '/proc/sys/vm/drop_caches': 'EROFS',
        '/proc/sys/kernel/sysrq': absentOr('EROFS'),
        '/proc/sys/net/ipv4/ip_forward': 'EROFS',
        '/proc/sysrq-trigger': absentOr('EROFS', 'EACCES'),
        '/proc/self/uid_map': 'EPERM',
        '/proc/self/uid_map = 0 0 1': 'EPERM',
        '/proc/self/setgroups': 'EACCES',
        '/proc/1/attr/current': 'EPERM',
        '/proc/self/oom_score_adj = -1000': 'EACCES',
        '/proc/1/oom_score_adj = -1000': 'EACCES',
        '/sys/fs/cgroup/<memory limit>': 'EROFS',
        '/sys/fs/cgroup/<pids limit>': 'EROFS',
        'new file in /sys/fs/cgroup': 'EACCES',
        '/sys/kernel/mm/transparent_hugepage/enabled': 'EROFS',
        '/sys/class/net/lo/mtu': 'EROFS',
        '/sys/module/ (new file)': 'EROFS',
        'limits unchanged': true,
        masked: {
          '/proc/keys': 'allowed: 0',
          '/proc/timer_list': 'allowed: 0',
          '/proc/kcore': absentOr('allowed: 0'),
        },
      });
    } else {
      // gVisor's /proc and /sys are its own kernel's, not the host's.
      expect(report).toEqual({
        // Its /proc/sys files are root's, and it checks a file's permissions before the
        // mount's read-only flag (Linux the other way round): EACCES, not EROFS.
        '/proc/sys/kernel/hostname': 'EACCES',
        '/proc/sys/kernel/core_pattern': 'EACCES',
        '/proc/sys/vm/drop_caches': 'EACCES',
        '/proc/sys/kernel/sysrq': 'EACCES',
        '/proc/sys/net/ipv4/ip_forward': 'EACCES',
        '/proc/sysrq-trigger': 'EACCES',
        // It parses a map before checking the right to write it ("1" is none): EINVAL;
        // the well-formed map is refused as under runc.
        '/proc/self/uid_map': 'EINVAL',
        '/proc/self/uid_map = 0 0 1': 'EPERM',
        '/proc/self/setgroups': 'EACCES',
        // No Linux security module, so no attr files.
        '/proc/1/attr/current': 'ENOENT',
        // oom_score_adj is a stub in gVisor's kernel: it takes any value in range and
        // changes nothing outside. The host's OOM scores of the sandbox's processes are
        // checked unchanged below.
        '/proc/self/oom_score_adj = -1000': "allowed: 'written'",
        '/proc/1/oom_score_adj = -1000': "allowed: 'written'",
        // Its /sys/fs/cgroup is empty: the limits apply to runsc's host processes,
        // outside gVisor's kernel, where nothing inside can name them.
        '/sys/fs/cgroup/<memory limit>': 'ENOENT',
        '/sys/fs/cgroup/<pids limit>': 'ENOENT',
        'new file in /sys/fs/cgroup': 'EACCES',
        // Its /sys has no kernel/mm; the rest is refused on the files' permissions, as above.
        '/sys/kernel/mm/transparent_hugepage/enabled': 'ENOENT',
        '/sys/class/net/lo/mtu': 'EACCES',
        '/sys/module/ (new file)': 'EACCES',
        'limits unchanged': true,
        // gVisor has none of these files to mask.
        masked: {
          '/proc/keys': 'ENOENT',
          '/proc/timer_list': 'ENOENT',
          '/proc/kcore': 'ENOENT',
        },
      });
    }
    // No host process of the sandbox got a lower OOM score (under gVisor the writes above
    // were taken by its stub; under runc they were refused).
    const hostScoresAfter = await hostOomScores(engine, bridge.pid);
    const kept = [...hostScoresAfter.keys()].filter((pid) => hostScoresBefore.has(pid));
    expect(kept.length, 'host processes seen before and after').toBeGreaterThan(0);
    for (const pid of kept)
      expect(hostScoresAfter.get(pid), `host pid ${pid}`).toBe(hostScoresBefore.get(pid));
    await expectSessionKept(bridge, 'before /proc and /sys');
  });

  it('cannot run a program it wrote, directly, through the loader or by mapping it executable', async () => {
    await setMarker(bridge, 'before running written files');
    const report = await probe<Record<string, string>>(EXECUTE_WRITTEN);
    for (const folder of ['/tmp', '/workspace', '/dev/shm']) {
      expect(report[`${folder} exec`], folder).toBe('EACCES');
      if (!gvisor) {
        expect(report[`${folder} through ld.so`], folder).toBe('exit 127');
        expect(report[`${folder} mmap PROT_EXEC`], folder).toBe('EPERM');
        continue;
      }
      // KNOWN GAP under gVisor runsc 20221219 (Debian 12): its mmap ignores the mount's
      // noexec flag, so every written file maps executable and the loader runs a written
      // program (on /dev/shm, a host-backed 9p mount in gVisor, the loader crashes with
      // SIGSEGV, but the mapping is allowed all the same). gVisor's mmap checks noexec
      // since release-20250203.0. Only execve() refuses, as under runc. This asserts the
      // gap, so a runsc that closes it fails here: then assert runc's answers.
      expect(report[`${folder} through ld.so`], folder).toBe(
        folder === '/dev/shm' ? 'exit -11' : 'exit 0',
      );
      expect(report[`${folder} mmap PROT_EXEC`], folder).toBe("allowed: 'mapped'");
    }
    await expectSessionKept(bridge, 'before running written files');
  });
});
