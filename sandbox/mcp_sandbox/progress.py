"""`progress` frames: what `runtime.progress()` reports of the running cell.

Fire and forget: the host forwards them to the client as MCP progress notifications
when the call asked for them, and ignores them otherwise. See docs/protocol.md."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .protocol import Channel

# At most one frame per this many seconds: a loop calling runtime.progress() a million
# times sends about 20 frames a second, not a million (the host bounds what it forwards
# to the client further, whatever the sandbox sends).
MIN_INTERVAL_SECONDS = 0.05


class ProgressSender:
    """Sends `progress` frames for the cell running now, at a bounded rate.

    Implements `mcp._link.ProgressSink`. Thread-safe: any user thread may report."""

    def __init__(
        self,
        channel: Channel,
        running_cell: Callable[[], int | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel = channel
        self._running_cell = running_cell
        self._clock = clock
        self._lock = threading.Lock()
        self._last_sent = float("-inf")

    def send(self, progress: float, total: float | None, message: str | None) -> bool:
        """Sends one frame unless one went out less than MIN_INTERVAL_SECONDS ago or no
        cell is running; True when it was sent. Values are validated by the caller."""
        cell = self._running_cell()
        if cell is None:
            return False
        with self._lock:
            now = self._clock()
            if now - self._last_sent < MIN_INTERVAL_SECONDS:
                return False
            self._last_sent = now
        frame: dict[str, object] = {"type": "progress", "id": cell, "progress": progress}
        if total is not None:
            frame["total"] = total
        if message is not None:
            frame["message"] = message
        self._channel.send(frame)
        return True
