# Sandbox bootstrap: run as `python3 -u -c <this file> <nonce>` (see docs/protocol.md).
# The parent stays a tiny watcher that reports the runner's death; the child waits for
# the host's boot frame, loads the runner modules from it in memory and runs the entry.
import json
import os
import signal
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO, cast

if TYPE_CHECKING:  # not imported at run time: every sandbox start would pay for it
    from importlib.abc import Loader

NONCE = sys.argv[1]
MAX_LINE = 64 << 20  # host lines up to 64 MiB; longer ones are skipped
CG = "/sys/fs/cgroup/"


def read_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def oom_kills() -> int:
    # v2 memory.events and v1 memory.oom_control both carry a line "oom_kill N".
    text = read_text(CG + "memory.events") or read_text(CG + "memory/memory.oom_control")
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def memory_limit() -> int | None:
    raw = (read_text(CG + "memory.max") or read_text(CG + "memory/memory.limit_in_bytes")).strip()
    # "max" (v2) or a page-rounded 2**63 (v1) mean "no limit".
    return int(raw) if raw.isdigit() and int(raw) < 1 << 62 else None


def write_frame(frame: dict[str, Any]) -> None:
    # The leading newline ends whatever line a dying runner left half written.
    data = ("\n" + json.dumps(frame) + "\n").encode()
    try:
        while data:
            data = data[os.write(1, data):]
    except OSError:
        pass  # nobody is listening any more


def become_subreaper() -> None:
    # Orphans of user code are re-parented to us, so the runner's reaper finds every
    # process of the session among our descendants, and we reap them.
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0):  # PR_SET_CHILD_SUBREAPER
            raise OSError(ctypes.get_errno(), "prctl failed")
    except Exception as e:
        write_frame({"type": "log", "level": "warn", "message": "watcher: no subreaper: %r" % e})


def watch(child: int, baseline: int, limit: int | None) -> None:
    def forward(signum: int, _frame: object) -> None:
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
    code = os.waitstatus_to_exitcode(status)  # -N: killed by signal N
    write_frame({
        "type": "exited", "nonce": NONCE, "exitCode": code if code >= 0 else None,
        "signal": -code if code < 0 else None,
        # A rise of the counter alone could be a user subprocess; the runner was
        # the victim only if it died of SIGKILL.
        "oomKilled": code == -signal.SIGKILL and oom_kills() > baseline,
        "memoryLimitBytes": limit,
    })
    os._exit(code if code >= 0 else 128 - code)


class MemoryFinder:
    """Serves the boot frame's modules from memory (first on sys.meta_path)."""

    def __init__(self, modules: dict[str, dict[str, Any]]) -> None:
        self.modules = modules

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        module = self.modules.get(name)
        if module is None:
            return None
        package = bool(module.get("package"))
        loader = cast("Loader", self)
        spec = ModuleSpec(name, loader, origin=self.filename(name), is_package=package)
        spec.has_location = True
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        code = compile(self.get_source(name), self.filename(name), "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def filename(self, name: str) -> str:
        package = bool(self.modules[name].get("package"))
        return "/sandbox/" + name.replace(".", "/") + ("/__init__.py" if package else ".py")

    def get_source(self, name: str) -> str:  # lets tracebacks and inspect show our source
        return str(self.modules[name]["source"])


def read_boot(reader: BinaryIO) -> dict[str, Any]:
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
            modules = frame.get("modules")
            if not isinstance(frame.get("entry"), str) or not isinstance(modules, dict) or not all(
                isinstance(m, dict) and isinstance(m.get("source"), str) for m in modules.values()
            ):
                raise ValueError("malformed boot frame")
            return frame


def run_child() -> None:
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
        import traceback

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
