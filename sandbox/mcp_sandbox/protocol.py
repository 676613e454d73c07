"""Frames on the wire: writing ours to the host and reading the host's."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import BinaryIO, NoReturn, cast

Frame = dict[str, object]
MAX_LINE = 64 << 20  # host lines up to 64 MiB are accepted; longer ones are skipped


def write_all(fd: int, data: bytes) -> None:
    """Writes all of `data`. The interrupt handler never raises in this frame, so a
    KeyboardInterrupt cannot cut a frame in half (see interrupts.py)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def die(diag_fd: int, what: str) -> NoReturn:
    """Reports an internal failure on the container's stderr and ends the runner."""
    import traceback  # a crash path: not worth loading at start-up

    message = f"mcp-sandbox runner: {what}: " + " | ".join(traceback.format_exc().splitlines())
    try:
        os.write(diag_fd, message.encode("utf-8", "backslashreplace") + b"\n")
    finally:
        os._exit(70)


def start_daemon(name: str, target: Callable[[], None], diag_fd: int) -> threading.Thread:
    """Starts a runner thread; the runner cannot work without any of them, so a crash ends it."""

    def guarded() -> None:
        try:
            target()
        except BaseException:
            die(diag_fd, f"thread {name} failed")

    thread = threading.Thread(target=guarded, name=name, daemon=True)
    thread.start()
    return thread


class Channel:
    """Sends frames on a private fd: the socket lane, or a copy of the container's stdout.

    Either is close-on-exec, so subprocesses never hold it; fd 1 itself is then free to
    become the capture pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def send(self, frame: Frame) -> None:
        data = json.dumps(frame, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        self.send_line(data + b"\n")

    def send_line(self, line: bytes) -> None:
        """Sends one frame already encoded (ASCII JSON ending in a newline)."""
        with self._lock:
            write_all(self._fd, line)

    def warn(self, message: str) -> None:
        self.send({"type": "log", "level": "warn", "message": message})

    def _forget(self) -> None:
        # A process forked by user code is not the runner: it must never write frames.
        # Its own forks (a fork bomb) inherit -1: nothing left to close.
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = -1
        self._lock = threading.Lock()


def read_line(reader: BinaryIO) -> bytes | None:
    """The next line (b"" at end of input), or None for a line over MAX_LINE, skipped."""
    line = reader.readline(MAX_LINE + 1)
    if len(line) <= MAX_LINE or line.endswith(b"\n"):
        return line
    while line and not line.endswith(b"\n"):
        line = reader.readline(1 << 20)
    return None


def positive_int(frame: Mapping[str, object], key: str) -> int:
    value = frame.get(key)
    if type(value) is not int or value <= 0:
        raise ValueError(f"{key!r} must be a positive integer")
    return value


Handler = Callable[[Frame], None]


class Inbox:
    """A reader thread (stdin, or the socket lane): decodes host frames and hands each
    to its handler.

    A handler raises ValueError for a frame that fails its schema. Such frames, like
    unknown types and undecodable lines, are ignored with a `log` warning."""

    def __init__(
        self,
        reader: BinaryIO,
        channel: Channel,
        handlers: Mapping[str, Handler],
        on_eof: Callable[[], None],
    ) -> None:
        self._reader = reader
        self._channel = channel
        self._handlers = handlers
        self._on_eof = on_eof

    def run(self) -> None:
        while True:
            line = read_line(self._reader)
            if line is None:
                self._channel.warn(f"ignored a line longer than {MAX_LINE} bytes")
            elif not line:
                self._on_eof()
                return
            elif line.strip():
                self._dispatch(line)

    def _dispatch(self, line: bytes) -> None:
        try:
            decoded: object = json.loads(line)
        except (ValueError, RecursionError):
            self._channel.warn(f"ignored a line that is not JSON ({len(line)} bytes)")
            return
        frame = cast(Frame, decoded) if isinstance(decoded, dict) else {}  # JSON keys are str
        kind = frame.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            self._channel.warn(f"ignored a frame of unknown type {str(kind)[:40]!r}")
            return
        try:
            handler(frame)
        except ValueError as error:
            self._channel.warn(f"ignored {kind!r} frame: {error}")
