"""Requests the sandbox sends to the host, waiting for their `rpc_response` frames.

Only the routing exists so far: the reader thread resolves responses here; the
in-sandbox `mcp.runtime` (later work) will create the requests."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .protocol import Frame, positive_int

if TYPE_CHECKING:
    from concurrent.futures import Future


class PendingCalls:
    """Pending request ids and the futures that receive their response frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1
        self._futures: dict[int, Future[Frame]] = {}

    def create(self) -> tuple[int, Future[Frame]]:
        """A fresh request id and the future its `rpc_response` frame will complete."""
        # Imported here: concurrent.futures costs milliseconds at start-up and most
        # sessions never make a request.
        from concurrent.futures import Future

        future: Future[Frame] = Future()
        with self._lock:
            request_id = self._next_id
            self._next_id += 1
            self._futures[request_id] = future
        return request_id, future

    def resolve(self, frame: Frame) -> None:
        """Handler of `rpc_response` frames (reader thread)."""
        request_id = positive_int(frame, "id")
        if type(frame.get("success")) is not bool:
            raise ValueError("'success' must be a boolean")
        with self._lock:
            future = self._futures.pop(request_id, None)
        if future is None:
            raise ValueError(f"no pending request {request_id}")
        if future.set_running_or_notify_cancel():
            future.set_result(frame)
