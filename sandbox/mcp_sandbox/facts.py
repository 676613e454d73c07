"""What the runner sees of its own confinement: `ready.facts` (docs/protocol.md).

Every reader catches its own failure and records it in `errors`, so one unreadable
fact never hides the others."""

from __future__ import annotations

import os
import re
import resource
from collections.abc import Callable
from functools import partial
from typing import Any
CGROUP = "/sys/fs/cgroup/"
UNLIMITED = 1 << 62  # cgroup v1 writes "no limit" as a page-rounded 2**63
CAPS = ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")
CORE = resource.RLIMIT_CORE
PR_GET_NO_NEW_PRIVS = 39


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def _status() -> dict[str, str]:
    pairs = (line.partition(":") for line in _read("/proc/self/status").splitlines())
    return {key: value.strip() for key, _, value in pairs}


def _limit(path: str) -> int | None:
    raw = _read(path).strip()
    return int(raw) if raw != "max" and int(raw) < UNLIMITED else None


def _no_cgroup_files() -> bool:
    """gVisor shows no cgroup files at all (the limits apply to it, on the host): that is
    an absence to report (null), not a read that failed."""
    return not os.path.exists(CGROUP) or not os.listdir(CGROUP)


def _memory_limits() -> tuple[int | None, int | None]:
    """(memory, swap): v2 memory.max and memory.swap.max (the swap alone); v1
    memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap)."""
    if os.path.exists(CGROUP + "memory.max"):
        return _limit(CGROUP + "memory.max"), _limit(CGROUP + "memory.swap.max")
    if _no_cgroup_files():
        return None, None
    v1 = CGROUP + "memory/memory."
    memsw = v1 + "memsw.limit_in_bytes"  # absent when swap accounting is off
    return _limit(v1 + "limit_in_bytes"), _limit(memsw) if os.path.exists(memsw) else None


def _pids_limit() -> int | None:
    path = CGROUP + "pids.max"
    if not os.path.exists(path) and _no_cgroup_files():
        return None
    return _limit(path if os.path.exists(path) else CGROUP + "pids/pids.max")


def _mem_total() -> int:
    """/proc/meminfo MemTotal in bytes: the host's memory under runc; under gVisor, the
    memory the sandbox kernel was given, which runsc sizes to the cgroup limit."""
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            value, unit = (line.split()[1:] + [""])[:2]
            return int(value) * (1024 if unit == "kB" else 1)
    raise ValueError("no MemTotal line")


def _size_bytes(path: str) -> int:
    """A filesystem's size as statvfs reports it: gVisor shows /dev/shm's size only so."""
    stats = os.statvfs(path)
    return stats.f_blocks * stats.f_frsize


def _no_new_privs(status: dict[str, str]) -> int:
    """NoNewPrivs from the status file; gVisor prints no such line, so then the kernel is
    asked directly (prctl)."""
    if "NoNewPrivs" in status:
        return int(status["NoNewPrivs"])
    import ctypes  # only here: runc prints the line, and ctypes costs a few ms to load

    libc = ctypes.CDLL(None, use_errno=True)
    value = libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
    if value < 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_GET_NO_NEW_PRIVS) failed")
    return int(value)


def _capability(status: dict[str, str], name: str) -> str | None:
    """A capability set as printed; None for an ambient set the kernel does not print
    (gVisor has no ambient capabilities). Any other missing set is a failed read."""
    if name == "CapAmb" and name not in status and "CapPrm" in status:
        return None
    return status[name]


def _mounts() -> list[dict[str, object]]:
    mounts: list[dict[str, object]] = []
    for line in _read("/proc/self/mountinfo").splitlines():
        # id parent major:minor root target options [optional...] - fstype source super
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        options = fields[5].split(",") + (tail[2].split(",") if len(tail) > 2 else [])
        target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])  # \040 = " "
        unique = list(dict.fromkeys(options))
        mounts.append({"target": target, "fstype": tail[0], "options": unique})
    return mounts


def _net_interfaces() -> list[str]:
    try:
        return sorted(os.listdir("/sys/class/net"))
    except OSError:
        lines = _read("/proc/net/dev").splitlines()[2:]
        return sorted(line.split(":")[0].strip() for line in lines)


def _kernel() -> dict[str, str]:
    uname = os.uname()
    return {"release": uname.release, "version": uname.version}


def _soft_limit(kind: int) -> int:
    return resource.getrlimit(kind)[0]


def gather_facts() -> dict[str, object]:
    """The facts, each read on its own. One that cannot be read gets a value that fails
    the host's check ("" for capabilities, -1, [], null) and its reason in `errors`."""
    errors: list[str] = []

    def fact(name: str, read: Callable[[], object], fallback: object) -> Any:
        try:
            return read()
        except Exception as error:
            errors.append(f"{name}: {error!r}")
            return fallback

    status: dict[str, str] = fact("status", _status, {})
    memory, swap = fact("memory", _memory_limits, (None, None))
    facts: dict[str, object] = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "uids": list(os.getresuid()),
        "gids": list(os.getresgid()),
        **{
            cap[0].lower() + cap[1:]: fact(cap, partial(_capability, status, cap), "")
            for cap in CAPS
        },
        "noNewPrivs": fact("noNewPrivs", lambda: _no_new_privs(status), -1),
        "seccomp": fact("seccomp", lambda: int(status["Seccomp"]), -1),
        "mounts": fact("mounts", _mounts, []),
        "memoryLimitBytes": memory,
        "memorySwapLimitBytes": swap,
        "pidsLimit": fact("pids", _pids_limit, None),
        "memTotalBytes": fact("memTotal", _mem_total, None),
        "shmSizeBytes": fact("shmSize", lambda: _size_bytes("/dev/shm"), None),
        # The kernel as uname reports it: the host's under runc, gVisor's own under runsc.
        "kernel": fact("kernel", _kernel, None),
        "netInterfaces": fact("netInterfaces", _net_interfaces, []),
        "cwd": fact("cwd", os.getcwd, ""),
        "home": os.environ.get("HOME"),
        # Raw soft limits: RLIM_INFINITY is -1.
        "rlimitNproc": fact("rlimitNproc", lambda: _soft_limit(resource.RLIMIT_NPROC), None),
        "rlimitNofile": fact("rlimitNofile", lambda: _soft_limit(resource.RLIMIT_NOFILE), None),
        # Soft and hard: user code may raise the soft limit up to the hard one.
        "rlimitCore": fact("rlimitCore", lambda: list(resource.getrlimit(CORE)), None),
        "rlimitMsgqueue": fact(
            "rlimitMsgqueue", lambda: list(resource.getrlimit(resource.RLIMIT_MSGQUEUE)), None
        ),
    }
    facts["errors"] = errors
    return facts
