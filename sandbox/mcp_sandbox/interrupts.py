"""Turns the host's `interrupt` frames into KeyboardInterrupt inside user code."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable
from types import CodeType, FrameType
from typing import TypeVar

T = TypeVar("T")


class Interrupter:
    """The reader thread asks; the main thread's SIGINT handler raises.

    The request is a real SIGINT sent to the main thread (signal.pthread_kill), so it
    also breaks time.sleep and blocking I/O. The handler raises only while user code
    is on the stack (below call_user), never in the runner's own bookkeeping; in a
    frame listed as protected (a frame write) or at the very edge of user code it
    re-sends the signal, so the request is served at the next safe point instead of
    being lost or landing in runner code."""

    def __init__(self, protected: Iterable[CodeType]) -> None:
        self._lock = threading.Lock()
        self._cell: int | None = None
        self._pending = False  # a request the handler has not served yet
        self._requested = False  # the host asked to interrupt this cell
        self._main = threading.main_thread().ident or 0
        self._boundary = Interrupter.call_user.__code__
        self._protected = frozenset(protected) | {self._boundary}

    def install(self) -> None:
        """(Re)installs the handler: user code may have replaced it."""
        signal.signal(signal.SIGINT, self._on_sigint)

    def arm(self, cell_id: int) -> None:
        with self._lock:
            self._cell, self._pending, self._requested = cell_id, False, False

    def disarm(self) -> bool:
        """Ends the cell; True if the host asked to interrupt it."""
        with self._lock:
            self._cell, self._pending = None, False
        return self._requested

    def request(self, cell_id: int) -> None:
        """Reader thread: interrupt `cell_id` if it is the cell running."""
        with self._lock:
            if self._cell != cell_id:
                return
            self._pending = self._requested = True
            signal.pthread_kill(self._main, signal.SIGINT)

    def call_user(self, run: Callable[[], T]) -> T:
        """The boundary: everything below this frame is user code."""
        return run()

    def _on_sigint(self, _signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes. It must not take self._lock:
        # the main thread may hold it.
        if not self._pending or frame is None:
            return
        if frame.f_code in self._protected:
            signal.pthread_kill(self._main, signal.SIGINT)
            return
        caller: FrameType | None = frame
        while caller is not None and caller.f_code is not self._boundary:
            caller = caller.f_back
        if caller is None:
            return  # runner bookkeeping: the request lapses when the cell ends
        self._pending = False
        raise KeyboardInterrupt
