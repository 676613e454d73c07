"""The socket lane: the host's faster path for frames (src/channel/socket-lane.ts).

The host may offer a Unix socket in a read-only folder mounted into the container. When
it can be reached, frames go there both ways instead of through the container's
stdin/stdout, which the engine relays through two more processes. Where it cannot (an
engine in a VM, SELinux labels), stdin/stdout carry everything, as without an offer."""

from __future__ import annotations

import socket

CONNECT_SECONDS = 2.0


def connect(offer: object) -> tuple[int | None, str]:
    """Connects and introduces itself with the offer's token: (the socket's fd, "") or
    (None, why not). No offer is no problem: (None, "")."""
    if offer is None:
        return None, ""
    path = offer.get("path") if isinstance(offer, dict) else None
    token = offer.get("token") if isinstance(offer, dict) else None
    if not isinstance(path, str) or not isinstance(token, str) or not token.isalnum():
        return None, "malformed offer"
    lane = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lane.settimeout(CONNECT_SECONDS)
        lane.connect(path)
        lane.sendall(token.encode("ascii") + b"\n")
        lane.settimeout(None)
    except OSError as error:
        lane.close()
        return None, f"{path}: {error.strerror or error}"
    return lane.detach(), ""  # close-on-exec, as every socket Python makes
