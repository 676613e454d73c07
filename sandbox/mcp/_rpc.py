"""Requests to the bridge (docs/protocol.md, "RPC"), for the cell that is running."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp._link import LINK, Frame

if TYPE_CHECKING:
    from concurrent.futures import Future


class MCPError(RuntimeError):
    """A request to the bridge or to a proxied MCP server failed; the message says why."""


class UnknownToolError(MCPError, AttributeError):
    """A server has no tool of that name. Also an AttributeError, so `hasattr()` and
    `getattr(proxy, name, default)` keep working on proxies."""


# Users meet these as mcp.runtime.MCPError; tracebacks should say so.
MCPError.__module__ = UnknownToolError.__module__ = "mcp.runtime"


def request_sync(payload: Frame) -> Frame:
    """Sends a request and blocks until the answer (a KeyboardInterrupt still breaks it)."""
    return _answer(_submit(payload).result())


async def request(payload: Frame) -> Frame:
    """Sends a request and awaits the answer without blocking the event loop."""
    import asyncio

    return _answer(await asyncio.wrap_future(_submit(payload)))


def _submit(payload: Frame) -> Future[Frame]:
    if LINK.transport is None:
        raise MCPError("not connected to the bridge: mcp.runtime works only inside its sandbox")
    return LINK.transport.submit(payload)


def _answer(frame: Frame) -> Frame:
    if frame.get("success") is True:
        payload = frame.get("payload")
        return payload if isinstance(payload, dict) else {}
    error = frame.get("error")
    raise MCPError(error if isinstance(error, str) and error else "the bridge refused the request")
