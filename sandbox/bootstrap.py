# Sandbox bootstrap: run as `python3 -u -c <this file> <nonce>` (see docs/protocol.md).
# The parent stays a tiny watcher that reports the runner's death; the child waits for
# the host's boot frame, loads the runner modules from it in memory and runs the entry.
import json
import os
import signal
import sys
import traceback
from importlib.machinery import ModuleSpec

NONCE = sys.argv[1]
MAX_LINE = 64 << 20  # host lines up to 64 MiB; longer ones are skipped
CG = "/sys/fs/cgroup/"


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def oom_kills():
    # v2 memory.events and v1 memory.oom_control both carry a line "oom_kill N".
    text = read_text(CG + "memory.events") or read_text(CG + "memory/memory.oom_control")
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def memory_limit():
    raw = (read_text(CG + "memory.max") or read_text(CG + "memory/memory.limit_in_bytes")).strip()
    # "max" (v2) or a page-rounded 2**63 (v1) mean "no limit".
    return int(raw) if raw.isdigit() and int(raw) < 1 << 62 else None


def write_frame(frame):
    # The leading newline ends whatever line a dying runner left half written.
    data = ("\n" + json.dumps(frame) + "\n").encode()
    try:
        while data:
            data = data[os.write(1, data):]
    except OSError:
        pass  # nobody is listening any more


def become_subreaper():
    # Orphans of user code are re-parented to us, so the runner's reaper finds every
    # process of the session among our descendants, and we reap them.
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    except Exception as e:
        write_frame({"type": "log", "level": "warn", "message": "watcher: not a subreaper: %r" % e})


def watch(child: int, baseline: int, limit: "int | None") -> None:
    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for s in FORWARDED:
        signal.signal(s, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
    become_subreaper()
    while True:  # also reaps orphans handed to us (as subreaper, or as PID 1)
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            break
    code, sig = os.waitstatus_to_exitcode(status), None
    if code < 0:
        code, sig = None, -code
    write_frame({
        "type": "exited", "nonce": NONCE, "exitCode": code, "signal": sig,
        # A rise of the counter alone could be a user subprocess; the runner was
        # the victim only if it died of SIGKILL.
        "oomKilled": sig == signal.SIGKILL and oom_kills() > baseline,
        "memoryLimitBytes": limit,
    })
    os._exit(128 + sig if sig else code)


class MemoryFinder:
    """Serves the boot frame's modules from memory (first on sys.meta_path)."""

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        module = self.modules.get(name)
        if module is None:
            return None
        package = bool(module.get("package"))
        origin = "/sandbox/" + name.replace(".", "/") + ("/__init__.py" if package else ".py")
        spec = ModuleSpec(name, self, origin=origin, is_package=package)
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = self.get_source(module.__name__)
        exec(compile(source, module.__spec__.origin, "exec", dont_inherit=True), module.__dict__)

    def get_source(self, name):  # lets tracebacks and inspect show runner source
        return self.modules[name]["source"]


def read_boot(reader):
    while True:
        line = reader.readline(MAX_LINE + 1)
        if not line:
            raise EOFError("stdin closed before the boot frame")
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of an overlong line
                line = reader.readline(1 << 20)
            continue
        try:
            frame = json.loads(line)
        except (ValueError, RecursionError):
            continue  # garbage before the boot frame (see docs/protocol.md)
        if isinstance(frame, dict) and frame.get("type") == "boot" and frame.get("nonce") == NONCE:
            modules, entry = frame.get("modules"), frame.get("entry")
            if not isinstance(modules, dict) or not isinstance(entry, str):
                raise ValueError("malformed boot frame")
            for name, module in modules.items():
                if not isinstance(module, dict) or not isinstance(module.get("source"), str):
                    raise ValueError("malformed boot frame: module %r" % name)
            return frame


def run_child():
    diag = os.dup(2)  # the container's stderr, kept for our own last words
    try:
        # User code's stdin is /dev/null; the real one lives on only in our reader.
        reader = os.fdopen(os.dup(0), "rb", buffering=1 << 18)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        boot = read_boot(reader)
        sys.meta_path.insert(0, MemoryFinder(boot["modules"]))
        __import__(boot["entry"])
        sys.modules[boot["entry"]].main(reader, boot)
        code = 0
    except BaseException:
        lines = traceback.format_exc().strip().splitlines()
        os.write(diag, ("mcp-sandbox runner failed: " + " | ".join(lines) + "\n").encode())
        code = 70
    os._exit(code)


FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Block the forwarded signals across fork so none arrives before the watcher forwards.
signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
oom_baseline, limit_bytes = oom_kills(), memory_limit()
child_pid = os.fork()
if child_pid:
    watch(child_pid, oom_baseline, limit_bytes)
else:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)
    run_child()
