"""The installer's way out (docs/packages.md, "What the installer can reach").

The installer container has no network; pip's proxy is a listener on the container's own
loopback that carries each connection, byte for byte, to the bridge's package relay over
the Unix socket mounted at /run/mcp-bridge-relay. The relay decides what may be reached.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from mcp_installer.failures import InstallFailed


def start_relay_forwarder(socket_path: str) -> str:
    """pip's proxy: a listener on this container's own loopback (it has no other network)
    that carries each connection to the bridge's package relay over the mounted Unix
    socket. Returns the proxy URL."""
    try:
        probe = socket.socket(socket.AF_UNIX)
        probe.settimeout(5)
        probe.connect(socket_path)
        probe.close()
    except OSError as error:
        raise InstallFailed(
            "the installer cannot reach the bridge's package relay (%s: %s). An engine in a "
            "VM or on another machine cannot share that socket: set "
            "MCP_BRIDGE_PACKAGES_NETWORK=engine, or install from "
            "MCP_BRIDGE_PACKAGES_FIND_LINKS" % (socket_path, error)
        ) from None
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    threading.Thread(target=_forward_connections, args=(listener, socket_path), daemon=True).start()
    return "http://127.0.0.1:%d" % listener.getsockname()[1]


def _forward_connections(listener: socket.socket, socket_path: str) -> None:
    while True:
        client, _address = listener.accept()
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.connect(socket_path)
        except OSError:
            client.close()
            upstream.close()
            continue
        ends = [client, upstream]
        open_directions = [2]
        lock = threading.Lock()

        def finished(
            ends: list[socket.socket] = ends,
            open_directions: list[int] = open_directions,
            lock: threading.Lock = lock,
        ) -> None:
            with lock:
                open_directions[0] -= 1
                if open_directions[0] == 0:
                    for end in ends:
                        end.close()

        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, target, finished), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket, finished: Callable[[], None]) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    try:
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finished()
