"""`mcp.runtime`: helpers the agent's code uses to learn what the sandbox offers.

The manual text comes from the host (`mcp._capabilities`), so the MCP resource and
`capability_summary()` never disagree.
"""

from __future__ import annotations

from mcp import _capabilities


class MCPError(RuntimeError):
    """Raised when a call to a proxied MCP server fails."""


def capability_summary() -> str:
    """A short manual: persistence, limits, MCP servers, discovery."""
    return _capabilities.TEXT


def discovered_servers(detailed: bool = False) -> tuple[object, ...]:
    """Names (or {name, description} dicts) of the MCP servers the bridge knows."""
    return tuple(_capabilities.SERVERS if not detailed else _capabilities.SERVER_DETAILS)


def list_loaded_server_metadata() -> tuple[dict[str, object], ...]:
    """Metadata of the servers loaded for this call (none until servers are configured)."""
    return ()
