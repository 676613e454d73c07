"""Before each cell: the call's servers become modules, proxies and globals (docs/protocol.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mcp import runtime
from mcp import servers as package
from mcp._link import LINK

if TYPE_CHECKING:
    from types import ModuleType

    from mcp.proxy import ServerProxy
    from mcp_sandbox.servers import ServerSpec

Installed = dict[str, "tuple[ServerSpec, ModuleType, ServerProxy]"]


def install(namespace: dict[str, object], servers: Sequence[ServerSpec]) -> None:
    """Makes exactly `servers` reachable from the cell; removes what an earlier call
    installed and this one did not load."""
    installed: Installed = {}
    for server in servers:
        previous = LINK.installed.get(server["alias"])
        # Unchanged servers keep their objects: building them again costs time.
        installed[server["alias"]] = (
            previous if previous and previous[0] == server else _build(server)
        )
    for alias, old in LINK.installed.items():
        if installed.get(alias) is not old:
            _remove(namespace, alias, old[1], old[2])
    for alias, (_, module, proxy) in installed.items():
        namespace["mcp_" + alias] = proxy
        sys.modules[module.__name__] = module
        setattr(package, alias, module)
    LINK.servers, LINK.installed = tuple(servers), installed
    # Set every cell, whatever the user assigned to them; a server aliased "servers"
    # stays reachable as mcp_servers["servers"].
    namespace["mcp_servers"] = {server["name"]: installed[server["alias"]][2] for server in servers}
    namespace["LOADED_MCP_SERVERS"] = tuple(server["name"] for server in servers)
    namespace["save_tool"] = runtime.save_tool
    # The tool description tells the model to `print(runtime.capability_summary())`.
    namespace.setdefault("runtime", runtime)


def _build(server: ServerSpec) -> tuple[ServerSpec, ModuleType, ServerProxy]:
    from mcp.proxy import ServerProxy, server_module  # only calls with servers pay for it

    module = server_module(server)
    return server, module, ServerProxy(server, module)


def _remove(
    namespace: dict[str, object], alias: str, module: ModuleType, proxy: ServerProxy
) -> None:
    # Only our own objects: a user variable that happens to share the name stays.
    if namespace.get("mcp_" + alias) is proxy:
        del namespace["mcp_" + alias]
    if sys.modules.get(module.__name__) is module:
        del sys.modules[module.__name__]
    if getattr(package, alias, None) is module:
        delattr(package, alias)
