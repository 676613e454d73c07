"""The `servers` field of an `execute` frame: the MCP servers loaded for the call.

The host computes names and aliases (src/upstream/aliases.ts); this side checks the
shape anyway, because aliases become Python names (`mcp_<alias>`, module
`mcp.servers.<alias>`, function names). A bad entry is skipped with a warning and the
rest still load: a call with one odd tool must not lose every server."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import NotRequired, TypedDict


class ToolSpec(TypedDict):
    name: str
    alias: str
    description: NotRequired[str]
    inputSchema: dict[str, object]


class ServerSpec(TypedDict):
    name: str
    alias: str
    description: NotRequired[str]
    cwd: NotRequired[str]
    tools: list[ToolSpec]


Warn = Callable[[str], None]


def parse_servers(value: object, warn: Warn) -> tuple[ServerSpec, ...]:
    """The valid entries of `servers` (absent or null: none)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        warn("ignored 'servers': not a list")
        return ()
    servers: list[ServerSpec] = []
    names: set[str] = set()
    aliases: set[str] = set()
    for index, entry in enumerate(value):
        try:
            server = _server(entry, warn)
        except ValueError as error:
            warn(f"ignored servers[{index}]: {error}")
            continue
        if server["name"] in names or server["alias"] in aliases:
            warn(f"ignored servers[{index}]: duplicate name or alias {server['alias']!r}")
            continue
        names.add(server["name"])
        aliases.add(server["alias"])
        servers.append(server)
    return tuple(servers)


def _server(entry: object, warn: Warn) -> ServerSpec:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    server: ServerSpec = {"name": _text(entry, "name"), "alias": _alias(entry), "tools": []}
    for key in ("description", "cwd"):
        if isinstance(entry.get(key), str):
            server[key] = entry[key]  # type: ignore[literal-required]
    tools = entry.get("tools", [])
    if not isinstance(tools, list):
        raise ValueError("'tools' must be a list")
    # A name may equal another tool's alias ("read_file" next to "read-file" aliased
    # read_file): the lookups decide which wins. Only equal names or aliases clash.
    names: set[str] = set()
    aliases: set[str] = set()
    for index, raw in enumerate(tools):
        try:
            tool = _tool(raw)
            if tool["name"] in names or tool["alias"] in aliases:
                raise ValueError(f"duplicate name or alias {tool['alias']!r}")
        except ValueError as error:
            warn(f"ignored tool {index} of server {server['name']!r}: {error}")
            continue
        names.add(tool["name"])
        aliases.add(tool["alias"])
        server["tools"].append(tool)
    return server


def _tool(raw: object) -> ToolSpec:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    schema = raw.get("inputSchema", {"type": "object"})
    if not isinstance(schema, dict):
        raise ValueError("'inputSchema' must be an object")
    tool: ToolSpec = {"name": _text(raw, "name"), "alias": _alias(raw), "inputSchema": schema}
    if isinstance(raw.get("description"), str):
        tool["description"] = raw["description"]
    return tool


def _text(entry: dict[str, object], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _alias(entry: dict[str, object]) -> str:
    alias = _text(entry, "alias")
    # Dunder names would overwrite module internals such as __name__.
    if not alias.isidentifier() or keyword.iskeyword(alias) or alias.startswith("__"):
        raise ValueError(f"'alias' {alias[:60]!r} is not a usable Python name")
    return alias
