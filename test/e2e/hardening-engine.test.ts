import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sandboxFactsSchema } from '../../src/channel/frames.js';
import { attachHijacked } from '../../src/container/attach.js';
import { dockerClient } from '../../src/container/docker-client.js';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
  type HardeningSettings,
} from '../../src/container/hardening.js';
import { writeSeccompProfileFile } from '../../src/container/seccomp-file.js';
import { gvisorSeccompProfile } from '../../src/container/seccomp-gvisor.js';
import { buildSeccompProfile, ENOSYS, EPERM } from '../../src/container/seccomp-profile.js';
import { deniedSyscallProbes } from '../support/denied-syscall-probes.js';
import { StreamDemuxer } from '../../src/container/stream-demux.js';
import { verifyHardening } from '../../src/container/verify-hardening.js';
import { REPO_ROOT } from '../support/bridge-client.js';
import { describeEachEngineAndGvisor, testImage, type TestEngine } from '../support/engines.js';

/**
 * The real check that unit tests cannot give: a container built by
 * buildContainerCreateOptions, on each engine, looked at from inside.
 */

const MiB = 1024 * 1024;
const TEST_LABEL = 'io.github.mcp-server-code-execution-mode.test';
const ENOSPC = 28;
const EROFS = 30;
const EACCES = 13;
const SIGSYS = 31;
const SIGSEGV = 11;

/**
 * Filter-only probes that gVisor's own kernel refuses exactly as our filter does, so under
 * gVisor their refusal cannot show the filter (they stay refused either way): clone3 is
 * not implemented (ENOSYS); mount, umount2, bpf, chroot, kcmp, modify_ldt and
 * io_uring_enter(-1) fail with EPERM there (measured, runsc 20221219).
 */
const GVISOR_REFUSES_ALIKE = new Set([
  'clone3(NULL, 0)',
  'mount(NULL, NULL, …)',
  'umount2(NULL, -1)',
  'bpf(-1, NULL, 0)',
  'io_uring_enter(-1, …)',
  'chroot(NULL)',
  'kcmp(no such pid)',
  'modify_ldt(0, NULL, 0)',
]);

/**
 * Runs inside the sandbox; prints one `REPORT <json>` line. argv[1] = the probes, argv[2] =
 * the runner's facts reader, so the facts checked here are the ones the bridge checks.
 */
const PROBE_SCRIPT = String.raw`
import asyncio, ctypes, json, mmap, os, platform, resource, socket, subprocess, sys, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
arch = platform.machine()
report = {"arch": arch}


def in_child(fn):
    """Runs fn in a forked child, so a call that did get through cannot affect us."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    return {"result": json.loads(data) if data else None, "signal": signal}


def raw_syscall(number, args):
    def call():
        ctypes.set_errno(0)
        ret = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
        return {"ret": ret, "errno": ctypes.get_errno() if ret == -1 else 0}
    return call


report["probes"] = []
for probe in json.loads(sys.argv[1]):
    number = probe["numbers"].get(arch)
    if number is not None:
        report["probes"].append({"label": probe["label"], **in_child(raw_syscall(number, probe["args"]))})

if arch == "x86_64":
    def int80_getpid():
        code = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))  # mov eax,20; int 0x80; ret
        address = ctypes.addressof(ctypes.c_char.from_buffer(code))
        return {"ret": ctypes.CFUNCTYPE(ctypes.c_int)(address)()}
    report["int80"] = in_child(int80_getpid)


def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except OSError as error:
        return {"ok": False, "errno": error.errno, "error": str(error)}
    except Exception as error:
        return {"ok": False, "errno": None, "error": repr(error)}


def thread():
    box = []
    worker = threading.Thread(target=lambda: box.append(42))
    worker.start()
    worker.join()
    return box[0]


def socket_pair():
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"ping")
    data = b.recv(4)
    a.close()
    b.close()
    return data.decode()


async def coroutine():
    await asyncio.sleep(0)
    return 7


def fill_tmp():
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        with open("/tmp/fill", "wb") as f:
            for _ in range(70):
                f.write(chunk)
                f.flush()
                written += 1
        return written
    finally:
        try:
            os.unlink("/tmp/fill")
        except OSError:
            pass


def write_file(name):
    with open(name, "w") as f:
        f.write("hello")
    with open(name) as f:
        return f.read()


report["ordinary"] = {
    "thread": attempt(thread),
    "subprocess": attempt(lambda: subprocess.run(["/bin/true"]).returncode),
    "posix_spawn": attempt(lambda: os.waitpid(os.posix_spawn("/bin/true", ["/bin/true"], os.environ), 0)[1]),
    "socketpair": attempt(socket_pair),
    "inet_socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close() or "ok"),
    "inet6_socket": attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close() or "ok"),
    "netlink_interfaces": attempt(lambda: [name for _, name in socket.if_nameindex()]),
    "read_file": attempt(lambda: len(open("/etc/os-release").read()) > 0),
    "asyncio": attempt(lambda: asyncio.run(coroutine())),
}
report["writes"] = {
    "tmp_70mb": attempt(fill_tmp),
    "workspace": attempt(lambda: write_file("/workspace/hello.txt")),
    "root": attempt(lambda: write_file("/hello.txt")),
    "run": attempt(lambda: write_file("/run/hello.txt")),
    "var_tmp": attempt(lambda: write_file("/var/tmp/hello.txt")),
}
with open("/proc/1/cmdline", "rb") as f:
    report["pid1"] = f.read().split(b"\0")[0].decode()


# The runner's own facts reader (sandbox/mcp_sandbox/facts.py), as argv[2].
facts_module = {"__name__": "facts"}
exec(compile(sys.argv[2], "facts.py", "exec"), facts_module)
report["facts"] = facts_module["gather_facts"]()
print("REPORT " + json.dumps(report), flush=True)
`;

interface CallResult {
  result: { ret: number; errno: number } | null;
  signal: number | null;
}
type Attempt = { ok: true; value: unknown } | { ok: false; errno: number | null; error: string };
interface ProbeReport {
  arch: string;
  probes: (CallResult & { label: string })[];
  int80?: CallResult;
  ordinary: Record<string, Attempt>;
  writes: Record<string, Attempt>;
  pid1: string;
  facts: unknown;
}

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
  inspect: Dockerode.ContainerInspectInfo;
}

/** Create, attach before start (LogConfig is "none"), wait, collect, remove. */
async function runToEnd(
  docker: Dockerode,
  options: Dockerode.ContainerCreateOptions,
): Promise<Finished> {
  const container = await docker.createContainer(options);
  try {
    const socket = await attachHijacked(docker, container.id);
    let stdout = '';
    let stderr = '';
    const demuxer = new StreamDemuxer((stream, payload) => {
      if (stream === 'stdout') stdout += payload.toString('utf8');
      else stderr += payload.toString('utf8');
    });
    socket.on('data', (chunk: Buffer) => demuxer.push(chunk));
    const ended = new Promise<void>((resolve) => {
      socket.once('end', resolve);
      socket.once('close', resolve);
    });
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5000))]);
    socket.destroy();
    return { exitCode: result.StatusCode, stdout, stderr, inspect: await container.inspect() };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

function parseReport(finished: Finished): ProbeReport {
  const line = finished.stdout.split('\n').find((text) => text.startsWith('REPORT '));
  if (!line) {
    throw new Error(
      `no report (exit ${finished.exitCode}); stderr: ${finished.stderr.slice(0, 2000)}`,
    );
  }
  return JSON.parse(line.slice('REPORT '.length)) as ProbeReport;
}

describeEachEngineAndGvisor('hardened sandbox container', (engine: TestEngine) => {
  const docker = dockerClient(engine.dockerHost);
  let profileDir = '';

  beforeAll(() => {
    profileDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-hardening-test-'));
  });
  afterAll(() => {
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  const gvisor = engine.ociRuntime === 'runsc';
  const settings = (command: string[], image = testImage()): HardeningSettings => ({
    engine: engine.name,
    ociRuntime: engine.ociRuntime,
    seccompProfilePath:
      engine.name === 'podman'
        ? writeSeccompProfileFile(
            profileDir,
            gvisor ? gvisorSeccompProfile() : buildSeccompProfile(),
          )
        : undefined,
    image,
    user: '65534:65534',
    memoryBytes: 512 * MiB,
    pidsLimit: 128,
    ...hardeningDefaults(),
    labels: { [TEST_LABEL]: 'hardening-engine' },
    command,
  });
  const probeCommand = [
    'python3',
    '-c',
    PROBE_SCRIPT,
    JSON.stringify(deniedSyscallProbes()),
    readFileSync(path.join(REPO_ROOT, 'sandbox/mcp_sandbox/facts.py'), 'utf8'),
  ];

  it('applies every setting, and the sandbox verifies clean', async () => {
    const ours = settings(probeCommand);
    const finished = await runToEnd(docker, buildContainerCreateOptions(ours));
    const report = parseReport(finished);
    // 0, not 137: filling /tmp hit the tmpfs size, not the memory limit.
    expect(finished.exitCode, finished.stderr).toBe(0);
    expect(finished.inspect.HostConfig.LogConfig?.Type).toBe('none');
    expect(report.pid1, 'Init: true puts an init process at PID 1').not.toMatch(/python/);

    const facts = sandboxFactsSchema.parse(report.facts);
    expect(facts).toMatchObject({ uid: 65534, gid: 65534, capEff: '0000000000000000' });
    expect(facts).toMatchObject({ noNewPrivs: 1, seccomp: 2, netInterfaces: ['lo'] });
    expect(verifyHardening(facts, ours)).toEqual([]);

    expect(report.writes.tmp_70mb).toMatchObject({ ok: false, errno: ENOSPC });
    expect(report.writes.workspace).toEqual({ ok: true, value: 'hello' });
    // gVisor checks the directory's permissions before the mount's read-only flag (Linux
    // the other way round): EACCES instead of EROFS. Nothing is written either way, and
    // verifyHardening above saw / and /var/tmp mounted read-only.
    const readOnly = gvisor ? EACCES : EROFS;
    expect(report.writes.root).toMatchObject({ ok: false, errno: readOnly });
    expect(report.writes.run).toMatchObject({ ok: false, errno: EACCES });
    expect(report.writes.var_tmp).toMatchObject({ ok: false, errno: readOnly });
  });

  it('refuses every denied call while ordinary Python works', async () => {
    const report = parseReport(
      await runToEnd(docker, buildContainerCreateOptions(settings(probeCommand))),
    );
    const probes = deniedSyscallProbes().filter((probe) =>
      report.arch === 'x86_64' ? probe.numbers.x86_64 !== null : probe.numbers.aarch64 !== null,
    );
    expect(report.probes.map((probe) => probe.label)).toEqual(probes.map((probe) => probe.label));
    for (const [index, probe] of probes.entries()) {
      expect(report.probes[index], probe.label).toMatchObject({
        result: { ret: -1, errno: probe.errno },
        signal: null,
      });
    }
    if (report.arch === 'x86_64') {
      // 32-bit syscalls (int 0x80) match no architecture in the filter: the caller dies.
      // gVisor runs no 32-bit syscalls at all: the caller faults before any filter.
      // SIGSEGV also on kernels that offer no int 0x80 entry at all (measured on a PVM
      // guest, where it faults without any filter); either way the call never returns.
      expect(report.int80?.result, 'int 0x80').toBeNull();
      expect(gvisor ? [SIGSEGV] : [SIGSYS, SIGSEGV], 'int 0x80').toContain(report.int80?.signal);
    }
    expect(report.ordinary).toEqual({
      thread: { ok: true, value: 42 },
      subprocess: { ok: true, value: 0 },
      posix_spawn: { ok: true, value: 0 },
      socketpair: { ok: true, value: 'ping' },
      inet_socket: { ok: true, value: 'ok' },
      inet6_socket: { ok: true, value: 'ok' },
      netlink_interfaces: { ok: true, value: ['lo'] },
      read_file: { ok: true, value: true },
      asyncio: { ok: true, value: 7 },
    });
  });

  it('uses probes that only the filter refuses (checked without it)', async () => {
    const options = buildContainerCreateOptions(settings(probeCommand));
    if (options.HostConfig)
      options.HostConfig.SecurityOpt = ['no-new-privileges', 'seccomp=unconfined'];
    const report = parseReport(await runToEnd(docker, options));
    expect(sandboxFactsSchema.parse(report.facts).seccomp).toBe(0);
    const byLabel = new Map(report.probes.map((probe) => [probe.label, probe]));
    for (const probe of deniedSyscallProbes().filter((candidate) => candidate.filterOnly)) {
      const seen = byLabel.get(probe.label);
      if (!seen) continue;
      if (gvisor && GVISOR_REFUSES_ALIKE.has(probe.label)) {
        expect(seen.result, `${probe.label} in gVisor without seccomp`).toEqual({
          ret: -1,
          errno: probe.errno,
        });
        continue;
      }
      const refusedAlike = seen.result?.ret === -1 && seen.result.errno === probe.errno;
      expect(refusedAlike, `${probe.label} without seccomp: ${JSON.stringify(seen)}`).toBe(false);
    }
    // The control run is meaningful only if the kernel allows what our filter denies
    // (gVisor's kernel too: it makes user namespaces of its own).
    expect(byLabel.get('unshare(CLONE_NEWUSER)')?.result).toEqual({ ret: 0, errno: 0 });
    expect(byLabel.get('socket(AF_VSOCK) high bits set')?.result?.errno).not.toBe(EPERM);
    // inotify and unprivileged fanotify work without our filter: the denial is ours.
    expect(byLabel.get('inotify_init1(IN_CLOEXEC)')?.result?.ret).toBeGreaterThanOrEqual(0);
    const fanotify = byLabel.get('fanotify_init(FAN_REPORT_FID)')?.result;
    if (gvisor) {
      // gVisor's kernel has no fanotify (ENOSYS, runsc 20221219): our EPERM is still ours.
      expect(fanotify).toEqual({ ret: -1, errno: ENOSYS });
    } else expect(fanotify?.ret).toBeGreaterThanOrEqual(0);
  });

  it("clears the image's entrypoint", async () => {
    const base = await docker.createContainer({
      Image: testImage(),
      Cmd: ['true'],
      Labels: { [TEST_LABEL]: 'base' },
    });
    const tag = `entrypoint-${process.pid}-${Date.now()}`;
    const repo = 'localhost/mcp-hardening-entrypoint-probe';
    try {
      await base.commit({
        repo,
        tag,
        changes: 'ENTRYPOINT ["/bin/echo", "the image entrypoint ran"]',
      });
      const command = ['python3', '-c', 'print("our command ran")'];
      const finished = await runToEnd(
        docker,
        buildContainerCreateOptions(settings(command, `${repo}:${tag}`)),
      );
      expect(finished.stdout.trim(), finished.stderr).toBe('our command ran');
    } finally {
      await base.remove({ force: true }).catch(() => undefined);
      await docker
        .getImage(`${repo}:${tag}`)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });
});
