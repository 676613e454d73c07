"""A loaded server as Python: the module `mcp.servers.<alias>` (a function per tool)
and the `mcp_<alias>` proxy object over it."""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from mcp import _schema, runtime
from mcp._rpc import MCPError, UnknownToolError

if TYPE_CHECKING:
    from mcp.results import ToolResult
    from mcp_sandbox.servers import ServerSpec, ToolSpec

ToolFunction = Callable[..., Coroutine[Any, Any, "ToolResult"]]


def unknown_tool(server: ServerSpec, tool: str) -> UnknownToolError:
    from mcp._known import closest

    aliases = [t["alias"] for t in server["tools"]]
    available = ", ".join(closest(tool, aliases)) or "none"
    return UnknownToolError(
        f"Server '{server['name']}' has no tool '{tool}'. Available tools: {available}"
    )


def tool_function(server: ServerSpec, tool: ToolSpec) -> ToolFunction:
    """An async function calling one tool: keyword arguments, or a dict of them."""
    server_name, tool_name = server["name"], tool["name"]

    async def call(arguments: Mapping[str, Any] | None = None, /, **kwargs: Any) -> ToolResult:
        return await runtime.call_tool(server_name, tool_name, _merge(arguments, kwargs))

    def sync(arguments: Mapping[str, Any] | None = None, /, **kwargs: Any) -> ToolResult:
        return runtime.call_tool_sync(server_name, tool_name, _merge(arguments, kwargs))

    doc = "\n\n".join(
        [
            tool.get("description", "").strip()
            or f"The '{tool_name}' tool of MCP server '{server_name}'.",
            _schema.parameters_doc(tool["inputSchema"]),
            "Returns the CallToolResult as a dict (shortcuts: .text, .data, .is_error). "
            f"Await it, or call {tool['alias']}.sync(...) from code that cannot await.",
        ]
    )
    for function, name in ((call, tool["alias"]), (sync, tool["alias"] + ".sync")):
        function.__name__ = function.__qualname__ = name
        function.__module__ = "mcp.servers." + server["alias"]
        function.__doc__ = doc
        signature = _schema.signature(tool["inputSchema"])
        function.__signature__ = signature  # type: ignore[attr-defined]
    call.sync = sync  # type: ignore[attr-defined]
    call.tool = tool  # type: ignore[attr-defined]
    return call


def _merge(arguments: Mapping[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    if arguments is not None and not isinstance(arguments, Mapping):
        raise MCPError("pass tool arguments by keyword (name=value), or as one dict")
    merged = dict(arguments) if arguments is not None else {}
    merged.update(kwargs)
    return merged


def server_module(server: ServerSpec) -> types.ModuleType:
    """The module `mcp.servers.<alias>`: tool functions, TOOLS, TOOL_MAP."""
    module = types.ModuleType("mcp.servers." + server["alias"], _server_doc(server))
    # Aliases are the Python names, so they win over an equal name of another tool.
    tool_map: dict[str, ToolSpec] = {tool["name"]: tool for tool in server["tools"]}
    for tool in server["tools"]:
        setattr(module, tool["alias"], tool_function(server, tool))
        tool_map[tool["alias"]] = tool
    module.TOOLS = list(server["tools"])  # type: ignore[attr-defined]
    module.TOOL_MAP = tool_map  # type: ignore[attr-defined]
    module.SERVER = server  # type: ignore[attr-defined]
    # help(module) then lists the functions, not the (long) metadata constants.
    module.__all__ = [tool["alias"] for tool in server["tools"]]  # type: ignore[attr-defined]
    return module


def _server_doc(server: ServerSpec) -> str:
    lines = [server.get("description", "").strip() or f"MCP server '{server['name']}'."]
    lines.append(
        f"\nTools ({len(server['tools'])}): " + ", ".join(t["alias"] for t in server["tools"])
    )
    return "\n".join(lines)


class ServerProxy:
    """`mcp_<alias>`: any tool (by alias or real name) as an attribute that is an async
    function taking keyword arguments (`.sync(...)` blocks instead);
    `await proxy.list_tools()` asks the server for its tools."""

    def __init__(self, server: ServerSpec, module: types.ModuleType) -> None:
        self._server = server
        self._module = module
        # An instance docstring: help(proxy) shows it under the proxy's repr.
        self.__doc__ = module.__doc__

    def __getattr__(self, name: str) -> ToolFunction:
        # Protocols (copy, pickle, IPython) probe dunders; copy.copy() asks for our
        # own fields before they exist.
        if name.startswith("__") or name in ("_server", "_module"):
            raise AttributeError(name)
        tool = self._module.TOOL_MAP.get(name)
        if tool is None:
            raise unknown_tool(self._server, name)
        function: ToolFunction = getattr(self._module, tool["alias"])
        return function

    def __dir__(self) -> list[str]:
        return sorted({*self._module.__all__, "list_tools", "list_tools_sync"})

    def __repr__(self) -> str:
        tools = self._server["tools"]
        names = ", ".join(t["alias"] for t in tools[:10]) + (", ..." if len(tools) > 10 else "")
        return f"<MCP server '{self._server['name']}': {len(tools)} tools: {names}>"

    async def list_tools(self) -> list[dict[str, Any]]:
        """The server's tools, asked of the server now: [{name, description?, inputSchema}]."""
        return await runtime.list_tools(self._server["name"])

    def list_tools_sync(self) -> list[dict[str, Any]]:
        """`list_tools()` for code that cannot await."""
        return runtime.list_tools_sync(self._server["name"])
