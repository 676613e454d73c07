"""`runtime.progress()`: tell the client how far the running call has come."""

from __future__ import annotations

import math
from numbers import Real

from mcp._link import LINK

# What a progress notification shows of a message; longer ones are cut.
MAX_MESSAGE_CHARS = 200


def progress(done: float, total: float | None = None, message: str | None = None) -> bool:
    """Reports progress of this call to the MCP client, e.g. `progress(3, 10, "file 3")`.

    Sent at once when the client asked for progress (as an MCP progress notification),
    but rate-limited: calls in quick succession are folded, so calling it in a tight
    loop is fine. `done` and `total` are finite numbers (`done` should grow from call to
    call); `message` is cut to 200 characters. Returns True when a report went out,
    False when it was folded into a later one or no call is running. Once the code
    reports progress, the bridge's own elapsed-time reports stop."""
    done_value = _finite("done", done)
    total_value = None if total is None else _finite("total", total)
    if message is not None and not isinstance(message, str):
        raise TypeError(f"message must be a str or None, not {type(message).__name__}")
    text = None if message is None else str.__str__(message[:MAX_MESSAGE_CHARS])
    sink = LINK.progress
    if sink is None:
        return False
    return sink.send(done_value, total_value, text)


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except (OverflowError, ValueError):
        raise ValueError(f"{name} must be a finite number, not {value!r:.40}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r:.40}")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
