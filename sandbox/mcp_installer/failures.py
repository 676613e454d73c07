"""How the installer's steps fail: InstallFailed carries a message for the agent."""

from __future__ import annotations

from typing import Any

MiB = 1024 * 1024


class InstallFailed(Exception):
    """An expected failure, reported to the host with this message."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = details  # extra result fields for the host


def megabytes(size: int) -> str:
    return "%.1f MB" % (size / MiB)
