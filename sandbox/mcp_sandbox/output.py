"""Capture of everything a cell prints, turned into `stdout`/`stderr` frames.

fds 1 and 2 are pipes; sys.stdout/sys.stderr write into them (writer.py), and so do
os.write, C extensions and subprocesses. One pump thread reads both pipes, keeps at
most the cell's budget per stream, and sends frames: when 50 ms have passed since the
last flush, when 64 Ki characters are waiting, and at the end of the cell."""

from __future__ import annotations

import codecs
import fcntl
import os
import select
import sys
import threading
import time
from typing import TextIO, cast

from .protocol import Channel, start_daemon
from .writer import CellWriter

FLUSH_SECONDS = 0.05
FRAME_CHARS = 64 * 1024  # also the buffered amount that forces a flush
READ_BYTES = 1 << 20
# 4x the default pipe: fewer pump wake-ups. No more: pipe memory is counted per uid,
# and every sandbox runs as the same one.
PIPE_BYTES = 1 << 18
BATCH_SECONDS = 0.001


class _Stream:
    """One captured stream: its pipe, writer and per-cell counters."""

    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self.fd = fd
        self.read_fd, self.write_fd = os.pipe()  # both close-on-exec
        try:
            fcntl.fcntl(self.write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # the default 64 KiB works too
        os.set_blocking(self.read_fd, False)
        self.writer = CellWriter(name, fd)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.kept = 0
        self.dropped = 0


class OutputCapture:
    """Owns fds 1/2, sys.stdout/sys.stderr and the pump thread."""

    def __init__(self, channel: Channel, diag_fd: int) -> None:
        self._channel = channel
        self._lock = threading.Lock()  # pipes are read, and frames sent, only under it
        self._streams = (_Stream("stdout", 1), _Stream("stderr", 2))
        self._by_read_fd = {stream.read_fd: stream for stream in self._streams}
        self._ready = self._poller()  # for begin/end; the pump thread has its own
        self._cell: int | None = None
        self._budget = 0
        self._pending: list[tuple[str, list[str]]] = []  # (stream, pieces), in arrival order
        self._pending_chars = 0
        self._last_flush = 0.0
        self._install()
        # Code that restores the "original" streams keeps writing into the capture.
        # (The stubs type them as the interpreter's own TextIOWrapper; ours is a TextIO.)
        sys.__stdout__ = sys.stdout  # type: ignore[assignment]
        sys.__stderr__ = sys.stderr  # type: ignore[assignment]
        start_daemon("output-pump", self._pump, diag_fd)

    def begin(self, cell_id: int, budget: int) -> None:
        """Starts capturing for a cell, after discarding output produced since the last."""
        with self._lock:
            self._cell = None
            self._drain()
            for stream in self._streams:
                stream.decoder.reset()
                stream.kept = stream.dropped = 0
            self._cell, self._budget = cell_id, budget
        for stream in self._streams:
            stream.writer.reset(budget)
        self._install()

    def end(self) -> dict[str, int]:
        """Sends all the cell's output still in the pipes; returns the dropped counts."""
        with self._lock:
            self._drain()
            for stream in self._streams:
                self._accept(stream, stream.decoder.decode(b"", True))
            self._flush()
            self._cell = None
            return {s.name: s.dropped + s.writer.cut() for s in self._streams}

    def stderr(self) -> CellWriter:
        """Our own stderr writer, for tracebacks even when user code replaced sys.stderr."""
        return self._streams[1].writer

    def _install(self) -> None:
        # Again at each cell: user code may have closed or redirected any of these.
        for stream in self._streams:
            os.dup2(stream.write_fd, stream.fd)
        sys.stdout, sys.stderr = (cast(TextIO, stream.writer) for stream in self._streams)

    def _poller(self) -> select.poll:
        poller = select.poll()
        for fd in self._by_read_fd:
            poller.register(fd, select.POLLIN)
        return poller

    def _pump(self) -> None:
        poller = self._poller()
        timeout: float | None = None
        while True:
            events = poller.poll(timeout)
            if events:
                # Let a busy writer fill the pipe a little: reading every small write
                # as it comes would make the two threads trade the GIL on each print.
                time.sleep(BATCH_SECONDS)
            with self._lock:
                for fd, _ in events:
                    self._read(self._by_read_fd[fd])
                timeout = self._flush_timeout()

    def _flush_timeout(self) -> float | None:
        """Flushes if due; otherwise milliseconds until it will be (None: nothing waits)."""
        if not self._pending:
            return None
        wait = self._last_flush + FLUSH_SECONDS - time.monotonic()
        if wait > 0:
            return wait * 1000
        self._flush()
        return None

    def _drain(self) -> None:
        # Reads what is in the pipes now (one poll when they are empty, the usual case);
        # stops at a short read so that a process writing without pause cannot keep us.
        for fd, _ in self._ready.poll(0):
            stream = self._by_read_fd[fd]
            while self._read(stream) == READ_BYTES:
                pass

    def _read(self, stream: _Stream) -> int:
        try:
            data = os.read(stream.read_fd, READ_BYTES)
        except BlockingIOError:
            return 0
        if self._cell is not None:  # output between cells is discarded
            self._accept(stream, stream.decoder.decode(data))
        return len(data)

    def _accept(self, stream: _Stream, text: str) -> None:
        room = self._budget - stream.kept
        if len(text) > room:
            stream.dropped += len(text) - room
            text = text[:room]
        if not text:
            return
        stream.kept += len(text)
        self._pending_chars += len(text)
        if self._pending and self._pending[-1][0] == stream.name:
            self._pending[-1][1].append(text)
        else:
            self._pending.append((stream.name, [text]))
        if self._pending_chars >= FRAME_CHARS:
            self._flush()

    def _flush(self) -> None:
        for name, pieces in self._pending:
            text = "".join(pieces)
            for start in range(0, len(text), FRAME_CHARS):
                chunk = text[start : start + FRAME_CHARS]
                self._channel.send({"type": name, "id": self._cell, "data": chunk})
        self._pending = []
        self._pending_chars = 0
        self._last_flush = time.monotonic()
