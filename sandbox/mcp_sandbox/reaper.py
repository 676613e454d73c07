"""Kills the processes an interrupted cell started, fork bombs included."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from typing import NamedTuple

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
SWEEP_SECONDS = 2.0
# How long kill sweeps may go on after the stop sweeps (each finds fewer: killed copies
# cannot fork, and the pids limit bounds the rest).
KILL_SECONDS = 5.0
# "max N" counts forks refused by the pids limit (cgroup v1 path, then v2).
PIDS_EVENTS = ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events")


class Mark(NamedTuple):
    """When a cell started, in the terms of /proc/<pid>/stat: the clock tick (the
    resolution of a process's start time) and the last pid the kernel handed out, which
    tells apart processes started within that same tick before and after the mark."""

    tick: int
    last_pid: int
    limit_hits: int = 0

    def precedes(self, pid: int, start_tick: int) -> bool:
        """True when the process `pid`, started at `start_tick`, started after the mark."""
        return start_tick > self.tick or (start_tick == self.tick and pid > self.last_pid)


EVERYTHING = Mark(tick=-1, last_pid=0)


class _Proc(NamedTuple):
    ppid: int
    start: int
    state: str


def _stat(pid: int) -> _Proc | None:
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            data = os.read(fd, 4096).decode("ascii", "replace")
        finally:
            os.close(fd)
    except OSError:
        return None  # gone meanwhile
    fields = data[data.rfind(")") + 2 :].split()  # the name in (...) may hold anything
    return _Proc(ppid=int(fields[1]), start=int(fields[19]), state=fields[0])


class Reaper:
    """Finds the session's processes started since a Mark and stops, then kills them.

    The session is every descendant of the watcher (it is the child subreaper, so
    orphans stay in the tree); PID 1, the watcher and the runner are never touched.
    Everything found is first frozen with SIGSTOP, sweeping again until a sweep finds
    nothing new and running, so a fork bomb cannot outpace us; then all get SIGKILL."""

    def __init__(self, watcher: int) -> None:
        self._watcher = watcher
        self._runner = os.getpid()
        self._loadavg = os.open("/proc/loadavg", os.O_RDONLY)
        # Read twice per cell: kept open and read with pread, which costs a sixth of
        # opening the file each time. -1: no such file here (then it is opened by path).
        self._pids_events = _open_first(PIDS_EVENTS)

    def mark(self) -> Mark:
        tick = time.clock_gettime_ns(time.CLOCK_BOOTTIME) * TICKS_PER_SECOND // 1_000_000_000
        try:  # "0.00 0.01 0.05 1/123 4567": the last field is the last pid allocated
            last_pid = int(os.pread(self._loadavg, 128, 0).split()[4])
        except (OSError, IndexError, ValueError):
            last_pid = 0
        return Mark(tick=tick, last_pid=last_pid, limit_hits=self._limit_hits())

    def hit_limit_since(self, since: Mark) -> bool:
        """True when a fork was refused by the pids limit after `since`: a fork bomb,
        whose copies would otherwise outlive the cell and starve the next ones."""
        return self._limit_hits() > since.limit_hits

    def _limit_hits(self) -> int:
        if self._pids_events >= 0:
            try:
                hits = _max_events(os.pread(self._pids_events, 4096, 0))
            except OSError:  # e.g. user code closed our descriptor
                hits = None
            if hits is not None:
                return hits
        return _pids_limit_hits()

    def reap(self, since: Mark) -> int:
        """Kills what started after `since`; returns how many processes."""
        deadline = time.monotonic() + SWEEP_SECONDS
        while True:
            found = self._started_since(since)
            running = [pid for pid, proc in found.items() if proc.state not in "TtZX"]
            if not running or time.monotonic() > deadline:
                break
            for pid in running:
                _signal(pid, signal.SIGSTOP)
            time.sleep(0.001)  # let the stops land before looking again
        killed = self._kill_all(since, found, deadline + KILL_SECONDS)
        self._await_deaths(killed, deadline + KILL_SECONDS + SWEEP_SECONDS)
        return len(killed)

    def _kill_all(self, since: Mark, found: dict[int, _Proc], deadline: float) -> dict[int, _Proc]:
        """SIGKILLs `found`, then sweeps again until a sweep finds none alive: when the
        stop sweeps ran out of time (hundreds of copies sharing the CPU with us), copies
        still running take the pids the killed ones free. Bounded by the pids limit."""
        killed: dict[int, _Proc] = {}
        while found:
            for pid, proc in found.items():
                _signal(pid, signal.SIGKILL)
                killed[pid] = proc
            if time.monotonic() > deadline:
                break
            time.sleep(0.001)  # let the kills land before looking again
            found = {
                pid: proc
                for pid, proc in self._started_since(since).items()
                if proc.state not in "ZX"
            }
        return killed

    def _started_since(self, since: Mark) -> dict[int, _Proc]:
        table: dict[int, _Proc] = {}
        try:
            names = os.listdir("/proc")
        except OSError:  # no descriptor left (the cell holds them all): nothing to find
            names = []
        for name in names:
            if name.isdigit() and (proc := _stat(int(name))) is not None:
                table[int(name)] = proc
        spared = {1, self._watcher, self._runner}
        return {
            pid: proc
            for pid, proc in table.items()
            if pid not in spared
            and since.precedes(pid, proc.start)
            and self._in_session(pid, table)
        }

    def _in_session(self, pid: int, table: dict[int, _Proc]) -> bool:
        for _ in range(len(table)):  # bounded: a ppid loop cannot exist, but be safe
            proc = table.get(pid)
            if proc is not None and proc.ppid == self._watcher:
                return True
            if proc is None or proc.ppid <= 1:
                return False
            pid = proc.ppid
        return False

    def _await_deaths(self, killed: dict[int, _Proc], deadline: float) -> None:
        """Returns once the killed processes are gone, so `done` means they are.

        Our own children that no Popen object will wait for are reaped here: as zombies
        they would still hold pids (the pids limit counts them)."""
        owned = _popen_pids()
        left = dict(killed)
        while left and time.monotonic() < deadline:
            for pid, proc in list(left.items()):
                ours = proc.ppid == self._runner and pid not in owned
                if _reaped(pid) if ours else _dead(pid, proc.start):
                    del left[pid]
            if left:
                time.sleep(0.001)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass  # already gone, or not ours


def _dead(pid: int, start: int) -> bool:
    proc = _stat(pid)
    return proc is None or proc.start != start or proc.state in "ZX"


def _reaped(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def _open_first(paths: tuple[str, ...]) -> int:
    for path in paths:
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            continue
    return -1


def _max_events(data: bytes) -> int | None:
    """The "max N" count of a pids.events file's content; None if it has none."""
    for line in data.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"max":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _pids_limit_hits() -> int:
    for path in PIDS_EVENTS:
        try:
            with open(path, encoding="ascii") as events:
                for line in events:
                    key, _, value = line.partition(" ")
                    if key == "max":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def _popen_pids() -> set[int]:
    classes = tuple(
        module.Popen
        for module in (sys.modules.get("subprocess"), sys.modules.get("multiprocessing.popen_fork"))
        if module is not None
    )
    if not classes:
        return set()
    return {obj.pid for obj in gc.get_objects() if isinstance(obj, classes)}
