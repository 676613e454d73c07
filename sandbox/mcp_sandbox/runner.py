"""Entry point: wires the parts, says `ready`, then runs cells in arrival order."""

from __future__ import annotations

import os
import queue
import sys
import time
import warnings
from typing import BinaryIO

from .display import Display, install as install_display
from .execution import Cell, Executor
from .facts import gather_facts
from .interrupts import Interrupter
from .lane import connect as lane_connect
from .output import OutputCapture
from .progress import ProgressSender
from .protocol import Channel, Frame, Inbox, positive_int, start_daemon, write_all
from .reaper import EVERYTHING, Reaper
from .rpc import PendingCalls


def main(reader: BinaryIO, boot: Frame) -> None:
    """Called by the bootstrap with its stdin reader and the decoded boot frame."""
    diag = os.dup(2)  # the container's stderr, for our own last words
    # Python 3.12+ warns at every os.fork() in a process with threads. Our threads are
    # the reason, and they are fork-safe (at-fork hooks renew what a child may need).
    warnings.filterwarnings(
        "ignore", r"This process .* is multi-threaded, use of fork\(\)", DeprecationWarning
    )
    lane, lane_problem = lane_connect(boot.get("lane"))
    # Frames take the lane if the host offered one we reach, else a copy of stdout
    # (taken before the capture takes fd 1).
    channel = Channel(lane if lane is not None else os.dup(1))
    capture = OutputCapture(channel, diag)
    reaper = Reaper(watcher=os.getppid())
    interrupter = Interrupter(protected=[write_all.__code__])
    calls = PendingCalls(channel)  # mcp.runtime's requests; rpc_response frames resolve them
    connect_mcp(calls, ProgressSender(channel, calls.running_cell))
    display = Display(channel)
    install_display(display)  # display(), plt.show(), Image.show(): images of the call
    timing = boot.get("timing") is True  # MCP_BRIDGE_TIMING on the host
    executor = Executor(
        capture, interrupter, reaper, before_cell=install_servers, display=display, timing=timing
    )
    cells: queue.SimpleQueue[Cell] = queue.SimpleQueue()

    def on_execute(frame: Frame) -> None:
        cell = Cell.from_frame(frame, channel.warn)
        cells.put(cell._replace(received_at=time.perf_counter()) if timing else cell)

    def on_eof() -> None:
        # The host is gone (Podman closes stdin when the attach ends): stop
        # everything the session started and leave.
        reaper.reap(EVERYTHING)
        os._exit(0)

    handlers = {
        "execute": on_execute,
        "interrupt": lambda frame: interrupter.request(positive_int(frame, "id")),
        "rpc_response": calls.resolve,
    }
    if lane_problem:
        message = f"socket lane unavailable, frames use stdin/stdout: {lane_problem}"
        channel.send({"type": "log", "level": "info", "message": message[:500]})
    channel.send(
        {
            "type": "ready",
            "nonce": boot["nonce"],
            "python": "%d.%d.%d" % sys.version_info[:3],
            "pid": os.getpid(),
            "facts": gather_facts(),
        }
    )
    # Both are read: the host writes to the lane once we are on it, and the end of
    # either means the host is gone.
    start_daemon("stdin-reader", Inbox(reader, channel, handlers, on_eof).run, diag)
    if lane is not None:
        lane_reader = os.fdopen(os.dup(lane), "rb", buffering=1 << 18)
        start_daemon("lane-reader", Inbox(lane_reader, channel, handlers, on_eof).run, diag)
    while True:  # executions never interleave: one at a time, in arrival order
        cell = cells.get()
        calls.begin(cell.id)
        done = executor.run(cell)
        calls.end(cell.id)  # before `done`: the host may answer nothing of it after that
        channel.send(done)


def connect_mcp(calls: PendingCalls, progress: ProgressSender) -> None:
    """Gives the in-sandbox `mcp` package its way to the host. Only two tiny
    modules load now; the rest of `mcp` loads with the first cell."""
    from mcp import _link

    _link.connect(calls, progress)


def install_servers(cell: Cell, namespace: dict[str, object]) -> None:
    """Installs the cell's MCP servers (proxies, modules, helper globals)."""
    from mcp import _install

    _install.install(namespace, cell.servers)
