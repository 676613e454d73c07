"""Requests the sandbox sends to the host (`rpc_request`) and their answers.

`mcp.runtime` submits a payload and waits on the returned future; the stdin reader
thread completes it with the `rpc_response` frame. See docs/protocol.md, "RPC"."""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from .protocol import Channel, Frame, positive_int

if TYPE_CHECKING:
    from concurrent.futures import Future

# The host answers at most 64 requests of a cell at a time and refuses the rest
# (src/session/rpc-gate.ts). Holding extra requests back here instead lets
# `asyncio.gather` of hundreds of calls just work.
MAX_IN_FLIGHT = 64
# The host drops sandbox lines over 4 MiB without answering: a request that large
# would wait forever, so it fails here instead.
MAX_REQUEST_BYTES = (4 << 20) - 1


_REQUEST = b'{"type":"rpc_request","id":%d,"execId":%d,"payload":%b}\n'


class _Request(NamedTuple):
    id: int
    cell: int
    line: bytes  # the encoded frame, newline included
    future: Future[Frame]


def failure(message: str) -> Frame:
    """An answer made up on this side, shaped like the host's refusals."""
    return {"type": "rpc_response", "success": False, "error": message}


class PendingCalls:
    """Requests of the running cell: sent and waiting for an answer, or held back.

    Implements `mcp._link.Transport`. Every method is thread-safe: user threads
    submit, the reader thread resolves, the main loop begins and ends cells."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._next_id = 1
        self._cell: int | None = None
        self._waiting: dict[int, _Request] = {}
        self._held: deque[_Request] = deque()

    def running_cell(self) -> int | None:
        """The cell whose requests are accepted now (None between cells)."""
        return self._cell

    def begin(self, cell_id: int) -> None:
        """Requests made from now on belong to cell `cell_id`."""
        with self._lock:
            self._cell = cell_id

    def end(self, cell_id: int) -> None:
        """The cell is over: whatever it still waits for fails. A late answer then
        finds no pending request and is dropped with a warning, never delivered to
        the next cell."""
        with self._lock:
            if self._cell == cell_id:
                self._cell = None
            left = [r for r in self._waiting.values() if r.cell == cell_id]
            left += [r for r in self._held if r.cell == cell_id]
            for request in left:
                self._waiting.pop(request.id, None)
            self._held = deque(r for r in self._held if r.cell != cell_id)
        for request in left:
            _complete(request.future, failure("the run_python call ended before the host answered"))

    def submit(self, payload: Frame) -> Future[Frame]:
        """Sends `payload` for the running cell; the future gets the answer frame."""
        from concurrent.futures import Future  # costs ms at start-up; most sessions never ask

        future: Future[Frame] = Future()
        try:  # encoded here, in the caller's thread: the reader thread may send it later
            # allow_nan=False: the host's JSON parser would drop a line with NaN, unanswered.
            body = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError, RecursionError) as error:
            _complete(future, failure(f"the request is not JSON-serialisable: {error}"))
            return future
        if len(body) + 100 > MAX_REQUEST_BYTES:  # 100: the frame around the payload
            size = len(body)
            _complete(future, failure(f"the request is too large ({size} bytes; at most 4 MiB)"))
            return future
        with self._lock:  # cell check and registration at once: end() cannot slip between
            cell = self._cell
            if cell is None:
                message = "MCP requests can only be made while a run_python call is running"
                _complete(future, failure(message))
                return future
            request_id, self._next_id = self._next_id, self._next_id + 1
            line = _REQUEST % (request_id, cell, body.encode("ascii"))
            request = _Request(request_id, cell, line, future)
            if len(self._waiting) >= MAX_IN_FLIGHT:
                self._held.append(request)
                return future
            self._waiting[request_id] = request  # before sending: the answer may be quick
        self._send(request)
        return future

    def resolve(self, frame: Frame) -> None:
        """Handler of `rpc_response` frames (reader thread); ValueError if unexpected."""
        request_id = positive_int(frame, "id")
        if type(frame.get("success")) is not bool:
            raise ValueError("'success' must be a boolean")
        with self._lock:
            request = self._waiting.pop(request_id, None)
            released = self._release()
        for held in released:
            self._send(held)
        if request is None:
            raise ValueError(f"no pending request {request_id}")
        _complete(request.future, frame)

    def _release(self) -> list[_Request]:
        """Held requests that now fit in flight (called under the lock)."""
        released: list[_Request] = []
        while self._held and len(self._waiting) < MAX_IN_FLIGHT:
            request = self._held.popleft()
            if not request.future.cancelled():  # e.g. its task was cancelled meanwhile
                self._waiting[request.id] = request
                released.append(request)
        return released

    def _send(self, request: _Request) -> None:
        try:
            self._channel.send_line(request.line)
        except OSError as error:  # e.g. in a process forked by user code
            with self._lock:
                self._waiting.pop(request.id, None)
            _complete(request.future, failure(f"could not send the request: {error}"))


def _complete(future: Future[Frame], answer: Frame) -> None:
    # False when the waiter cancelled it (an awaited call that was cancelled).
    if future.set_running_or_notify_cancel():
        future.set_result(answer)
