"""sys.stdout / sys.stderr as user code sees them."""

from __future__ import annotations

import io
import os
import threading

from .protocol import write_all


class CellWriter(io.TextIOBase):
    """A text stream writing straight into fd 1 or 2 (the capture pipes).

    Going through the fd keeps print() in order with os.write() and subprocess output
    on the same stream, exactly as with `python -u`. Text past the cell's budget is only
    counted: a 50 MB print costs one slice of the budget's size, never a copy of the
    whole string."""

    encoding = "utf-8"
    errors = "backslashreplace"
    newlines = None

    def __init__(self, name: str, fd: int) -> None:
        super().__init__()
        self.name = f"<{name}>"
        self.mode = "w"
        self._fd = fd
        self._room = 0  # what is surely left of the budget (see reset)
        self._cut = 0
        self._cut_lock = threading.Lock()
        # A fork may copy the lock held by another thread: the child gets a free one.
        os.register_at_fork(after_in_child=self._renew_lock)
        self.buffer = io.FileIO(fd, "wb", closefd=False)

    def reset(self, budget: int) -> None:
        """Starts a cell with `budget` characters.

        Whatever else reaches the pipe (os.write, subprocesses, racing threads) only
        makes the real remainder smaller than _room, so a cut here is always a cut the
        pump would have made; the pump enforces the exact budget."""
        with self._cut_lock:
            self._cut = 0
        self._room = budget

    def cut(self) -> int:
        """Characters this cell wrote past its budget (never sent)."""
        return self._cut

    def write(self, text: object) -> int:  # object: callers are user code
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        size = len(text)
        room = self._room
        if size > room:
            keep = max(room, 0)
            with self._cut_lock:
                self._cut += size - keep
            text = text[:keep]
        self._room = room - len(text)
        if text:
            write_all(self._fd, text.encode("utf-8", "backslashreplace"))
        return size

    def _renew_lock(self) -> None:
        self._cut_lock = threading.Lock()

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass  # nothing is buffered here

    def close(self) -> None:
        pass  # user code closing sys.stdout must not close the capture pipe
