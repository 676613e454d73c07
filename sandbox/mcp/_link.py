"""The `mcp` package's link to the runner: one per process, by necessity.

User code imports `mcp.runtime` on its own, so the runner cannot hand it objects.
Instead the runner connects this module once at start-up (mcp_sandbox.runner) and
records here, before each cell, which servers the call loaded (mcp._install)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Future
    from types import ModuleType

    from mcp.proxy import ServerProxy
    from mcp_sandbox.servers import ServerSpec

Frame = dict[str, object]


class Transport(Protocol):
    """Sends a request payload for the running cell (mcp_sandbox.rpc.PendingCalls)."""

    def submit(self, payload: Frame) -> Future[Frame]:
        """The future receives the `rpc_response` frame (or a made-up refusal)."""
        ...


class ProgressSink(Protocol):
    """Sends `runtime.progress()` of the running cell (mcp_sandbox.progress.ProgressSender)."""

    def send(self, progress: float, total: float | None, message: str | None) -> bool:
        """True when a frame went out (False: rate-limited, or no cell running)."""
        ...


class Link:
    def __init__(self) -> None:
        self.transport: Transport | None = None
        self.progress: ProgressSink | None = None
        self.servers: tuple[ServerSpec, ...] = ()  # loaded for the running call
        # alias → what mcp._install made of it, reused while the server is unchanged
        self.installed: dict[str, tuple[ServerSpec, ModuleType, ServerProxy]] = {}


LINK = Link()


def connect(transport: Transport, progress: ProgressSink | None = None) -> None:
    LINK.transport = transport
    LINK.progress = progress
