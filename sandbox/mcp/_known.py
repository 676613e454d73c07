"""What the sandbox knows without asking the host: the servers configured (from the
host's generated `mcp._capabilities`) and the ones loaded for this call. Part of
`mcp.runtime`."""

from __future__ import annotations

import copy
from typing import Any

from mcp._link import LINK
from mcp._rpc import MCPError


def closest(name: str, choices: list[str]) -> list[str]:
    """`choices` ordered by likeness to `name`, closest first (for error messages)."""
    from difflib import SequenceMatcher

    def likeness(choice: str) -> float:
        return SequenceMatcher(None, name.lower(), choice.lower()).ratio()

    return sorted(choices, key=likeness, reverse=True)


def _capabilities() -> Any:
    """The host's generated module (TEXT, SERVERS, SERVER_DETAILS), if it sent one."""
    try:
        from mcp import _capabilities as generated  # type: ignore[attr-defined]
    except ImportError:
        return None
    return generated


def capability_summary() -> str:
    """A short manual: discovery, calling tools, persistence, helpers."""
    text = getattr(_capabilities(), "TEXT", None)
    return text if isinstance(text, str) else "mcp.runtime: see help(mcp.runtime)."


def discovered_servers(detailed: bool = False) -> tuple[Any, ...]:
    """Every MCP server the bridge is configured with, loaded in this call or not:
    names, or `{name, description?, toolCount?}` dicts when `detailed`."""
    generated = _capabilities()
    if detailed:
        return tuple(copy.deepcopy(list(getattr(generated, "SERVER_DETAILS", []))))
    return tuple(getattr(generated, "SERVERS", []))


def list_loaded_server_metadata() -> tuple[dict[str, Any], ...]:
    """The servers loaded for this call (run_python's `servers`):
    `{name, alias, description?, cwd?, tools: [{name, alias, description?, inputSchema}]}`."""
    return tuple(copy.deepcopy(dict(server)) for server in LINK.servers)


def describe_server(name: str) -> dict[str, Any]:
    """One server by name or alias: the loaded metadata plus `loaded: True`, or for a
    configured server not loaded in this call `{name, description?, toolCount?,
    loaded: False, tools: []}`."""
    for server in LINK.servers:
        if name in (server["name"], server["alias"]):
            return {**copy.deepcopy(dict(server)), "loaded": True}
    for detail in discovered_servers(detailed=True):
        if isinstance(detail, dict) and detail.get("name") == name:
            return {**detail, "loaded": False, "tools": []}
    known = [str(n) for n in discovered_servers()] + [s["name"] for s in LINK.servers]
    listed = ", ".join(closest(name, sorted(set(known)))) or "none"
    raise MCPError(f"Unknown MCP server '{name}'. Configured servers: {listed}")
