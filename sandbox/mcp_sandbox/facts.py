"""What the runner sees of its own confinement: `ready.facts` (docs/protocol.md).

Every reader catches its own failure and records it in `errors`, so one unreadable
fact never hides the others."""

from __future__ import annotations

import os
import re
import resource
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
CGROUP = "/sys/fs/cgroup/"
UNLIMITED = 1 << 62  # cgroup v1 writes "no limit" as a page-rounded 2**63
CAPS = ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh")
CORE = resource.RLIMIT_CORE


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def _status() -> dict[str, str]:
    pairs = (line.partition(":") for line in _read("/proc/self/status").splitlines())
    return {key: value.strip() for key, _, value in pairs}


def _limit(path: str) -> int | None:
    raw = _read(path).strip()
    return int(raw) if raw != "max" and int(raw) < UNLIMITED else None


def _memory_limits() -> tuple[int | None, int | None]:
    """(memory, swap): v2 memory.max and memory.swap.max (the swap alone); v1
    memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap)."""
    if os.path.exists(CGROUP + "memory.max"):
        return _limit(CGROUP + "memory.max"), _limit(CGROUP + "memory.swap.max")
    v1 = CGROUP + "memory/memory."
    memsw = v1 + "memsw.limit_in_bytes"  # absent when swap accounting is off
    return _limit(v1 + "limit_in_bytes"), _limit(memsw) if os.path.exists(memsw) else None


def _pids_limit() -> int | None:
    path = CGROUP + "pids.max"
    return _limit(path if os.path.exists(path) else CGROUP + "pids/pids.max")


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


def _soft_limit(kind: int) -> int:
    return resource.getrlimit(kind)[0]


def gather_facts() -> dict[str, object]:
    """The facts, each read on its own. One that cannot be read gets a value that fails
    the host's check ("" for capabilities, -1, [], null) and its reason in `errors`."""
    errors: list[str] = []

    def fact(name: str, read: Callable[[], T], fallback: T) -> T:
        try:
            return read()
        except Exception as error:
            errors.append(f"{name}: {error!r}")
            return fallback

    status = fact("status", _status, {})
    memory, swap = fact("memory", _memory_limits, (None, None))
    facts: dict[str, object] = {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "uids": list(os.getresuid()),
        "gids": list(os.getresgid()),
        **{cap[0].lower() + cap[1:]: fact(cap, lambda cap=cap: status[cap], "") for cap in CAPS},
        "noNewPrivs": fact("noNewPrivs", lambda: int(status["NoNewPrivs"]), -1),
        "seccomp": fact("seccomp", lambda: int(status["Seccomp"]), -1),
        "mounts": fact("mounts", _mounts, []),
        "memoryLimitBytes": memory,
        "memorySwapLimitBytes": swap,
        "pidsLimit": fact("pids", _pids_limit, None),
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
