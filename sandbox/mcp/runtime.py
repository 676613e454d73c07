"""`mcp.runtime`: discover the MCP servers the bridge knows, read their tool docs, call
their tools, and keep your own functions across sessions (docs/servers.md; the names and
shapes of the original Python bridge).

Functions marked async ask the host; each has a `_sync` twin for code that cannot
await (it blocks the calling thread until the answer). Failures raise `MCPError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mcp._known import (
    capability_summary,
    describe_server,
    discovered_servers,
    list_loaded_server_metadata,
)
from mcp._link import LINK, Frame
from mcp._rpc import MCPError, request, request_sync

# _load_saved_tools: the host runs it as the first cell of each sandbox (docs/protocol.md).
from mcp._saved import _load_saved_tools  # noqa: F401
from mcp._saved import delete_saved_tool, list_saved_tools, save_tool

# Package installs (docs/packages.md): the store joins sys.path before the first cell runs.
from mcp.packages import activate as _activate_packages
from mcp.packages import install_package, list_packages

# Progress of the running call, for the MCP client (docs/protocol.md, "Progress").
from mcp._progress import progress
from mcp.results import SearchResults, ToolResult

if TYPE_CHECKING:
    from mcp_sandbox.servers import ServerSpec, ToolSpec

_activate_packages()

__all__ = [
    "MCPError", "ToolResult", "call_tool", "call_tool_sync", "capability_summary",
    "calls", "check_code_safety", "history",
    "delete_saved_tool", "describe_server", "discovered_servers", "install_package",
    "list_loaded_server_metadata", "list_packages",
    "list_saved_tools", "list_servers", "list_servers_sync", "list_tools", "list_tools_sync",
    "progress", "reset",
    "query_tool_docs", "query_tool_docs_sync", "save_artifact", "save_tool", "search_tool_docs",
    "search_tool_docs_sync",
]  # fmt: skip


async def list_servers() -> tuple[str, ...]:
    """Names of the servers loaded for this call, sorted (asks the host)."""
    return _names(await request({"type": "list_servers"}))


def list_servers_sync() -> tuple[str, ...]:
    """`list_servers()`, blocking: for code that cannot await."""
    return _names(request_sync({"type": "list_servers"}))


async def list_tools(server: str) -> list[dict[str, Any]]:
    """A loaded server's tools, asked of it now: `[{name, description?, inputSchema}]`."""
    return _list(await request({"type": "list_tools", "server": _server_name(server)}), "tools")


def list_tools_sync(server: str) -> list[dict[str, Any]]:
    """`list_tools()`, blocking: for code that cannot await."""
    return _list(request_sync({"type": "list_tools", "server": _server_name(server)}), "tools")


async def query_tool_docs(server: str, tool: str | None = None, detail: str = "summary") -> Any:
    """Tool docs of a server: a list of `{server, serverAlias, tool, toolAlias,
    description?}` (+ `inputSchema` when detail="full"); one dict when `tool` is named."""
    return _docs(await request(_docs_request(server, tool, detail)), server, tool)


def query_tool_docs_sync(server: str, tool: str | None = None, detail: str = "summary") -> Any:
    """`query_tool_docs()`, blocking: for code that cannot await."""
    return _docs(request_sync(_docs_request(server, tool, detail)), server, tool)


async def search_tool_docs(
    query: str, *, limit: int = 5, detail: str = "summary"
) -> SearchResults:
    """Tool docs ranked by fuzzy match with `query` (limit 1..20), from every server whose
    tools are known (loaded, or cached from an earlier load); each says whether its server
    is `loaded` in this call. `.not_searched` lists the others: a search starts nothing."""
    return _search_results(await request(_search_request(query, limit, detail)))


def search_tool_docs_sync(
    query: str, *, limit: int = 5, detail: str = "summary"
) -> SearchResults:
    """`search_tool_docs()`, blocking: for code that cannot await."""
    return _search_results(request_sync(_search_request(query, limit, detail)))


async def call_tool(
    server: str, tool: str, arguments: Mapping[str, Any] | None = None
) -> ToolResult:
    """Calls a tool of a loaded server (names or aliases); returns the CallToolResult."""
    return _result(await request(_call_request(server, tool, arguments)))


def call_tool_sync(
    server: str, tool: str, arguments: Mapping[str, Any] | None = None
) -> ToolResult:
    """`call_tool()`, blocking: for code that cannot await."""
    return _result(request_sync(_call_request(server, tool, arguments)))


def history(limit: int = 20) -> list[dict[str, Any]]:
    """Recent executions of this session (run_python's `session`) in this bridge process,
    newest first: `[{id, session, tool, code, status, exitCode, startedAt, durationMs,
    servers}]`. Other sessions' and other MCP clients' executions are not shown here."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise MCPError("limit must be an integer")
    entries = request_sync({"type": "history", "limit": limit}).get("history")
    return entries if isinstance(entries, list) else []


#: The most proxied calls one `calls()` returns (the host refuses more).
MAX_CALLS_LIMIT = 1000


def calls(limit: int = 20) -> list[dict[str, Any]]:
    """The audit trail: the MCP tool calls this bridge process made for this session,
    newest first: `[{at, session, server, tool, argumentBytes, argumentSha256, outcome,
    message, durationMs, approval}]`. `outcome` is `ok`, `error` or `refused`; arguments
    are kept as size and sha256 only. `limit`: a whole number from 1 to 1000."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValueError(f"limit must be a whole number from 1 to {MAX_CALLS_LIMIT}, got {limit!r}")
    if not 1 <= limit <= MAX_CALLS_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_CALLS_LIMIT}, got {limit}")
    entries = request_sync({"type": "calls", "limit": limit}).get("calls")
    return entries if isinstance(entries, list) else []


def reset() -> str:
    """Ends this session's state on purpose: once the current call has answered, its
    sandbox is removed and the next call in this session starts a fresh one (variables,
    imports and files in /workspace are gone; saved tools load again). Other sessions are
    not touched. Returns the session's name."""
    session = request_sync({"type": "reset"}).get("session")
    return session if isinstance(session, str) else ""


def check_code_safety(code: str) -> dict[str, Any]:
    """Advisory static check of `code` (parsed, never run): `{is_safe, warnings,
    findings: [{rule, message, line, col, severity}], truncated}`. The container, not
    this check, is the boundary (docs/security.md)."""
    from mcp.safety import check_code_safety as check

    return check(code)


def _server_name(server: object) -> str:
    """A loaded server's real name for its name or alias; other names go as they are
    (the host decides: it alone holds the call's allow-list)."""
    if not isinstance(server, str):
        raise MCPError(f"a server name must be a string, not {type(server).__name__}")
    return _real_name(server, LINK.servers) or server


def _tool_name(server: str, tool: object, strict: bool) -> str:
    """A loaded server's tool by name or alias → its real name; unknown ones raise
    (strict) or go as they are."""
    if not isinstance(tool, str):
        raise MCPError(f"a tool name must be a string, not {type(tool).__name__}")
    for spec in LINK.servers:
        if spec["name"] == server:
            name = _real_name(tool, spec["tools"])
            if name is None and strict:
                from mcp.proxy import unknown_tool

                raise unknown_tool(spec, tool)
            return name or tool
    return tool


def _real_name(wanted: str, entries: Sequence[ServerSpec] | Sequence[ToolSpec]) -> str | None:
    # Exact names first, as the host matches them: a name may equal another's alias.
    for entry in entries:
        if entry["name"] == wanted:
            return entry["name"]
    for entry in entries:
        if entry["alias"] == wanted:
            return entry["name"]
    return None


def _docs_request(server: str, tool: str | None, detail: str) -> Frame:
    name = _server_name(server)
    payload: Frame = {"type": "query_tool_docs", "server": name, "detail": _detail(detail)}
    if tool is not None:
        payload["tool"] = _tool_name(name, tool, strict=False)
    return payload


def _search_request(query: str, limit: int, detail: str) -> Frame:
    if not isinstance(query, str):
        raise MCPError("the search query must be a string")
    if type(limit) is not int:
        raise MCPError("limit must be an integer")
    limit = min(max(limit, 1), 20)  # clamped, not refused (docs/servers.md)
    return {"type": "search_tool_docs", "query": query, "limit": limit, "detail": _detail(detail)}


def _call_request(server: str, tool: str, arguments: Mapping[str, Any] | None) -> Frame:
    if arguments is not None and not isinstance(arguments, Mapping):
        raise MCPError(f"arguments must be a dict, not {type(arguments).__name__}")
    if arguments and not all(isinstance(key, str) for key in arguments):
        raise MCPError("argument names must be strings")
    name = _server_name(server)
    tool_name = _tool_name(name, tool, strict=True)
    return {
        "type": "call_tool",
        "server": name,
        "tool": tool_name,
        "arguments": dict(arguments or {}),
    }


def _detail(detail: str) -> str:
    if detail not in ("summary", "full"):
        raise MCPError(f"detail must be 'summary' or 'full', not {detail!r}")
    return detail


def _names(answer: Frame) -> tuple[str, ...]:
    return tuple(name for name in _list(answer, "servers") if isinstance(name, str))


def _list(answer: Frame, key: str) -> list[Any]:
    value = answer.get(key)
    return value if isinstance(value, list) else []


def _search_results(answer: Frame) -> SearchResults:
    skipped = [entry for entry in _list(answer, "notSearched") if isinstance(entry, dict)]
    return SearchResults(_list(answer, "results"), skipped)


def _docs(answer: Frame, server: str, tool: str | None) -> Any:
    docs = _list(answer, "docs")
    if tool is None:
        return docs
    if not docs:
        raise MCPError(f"Server '{server}' has no tool '{tool}'")
    return docs[0]


def _result(answer: Frame) -> ToolResult:
    result = answer.get("result")
    return ToolResult(result if isinstance(result, dict) else {})


def save_artifact(name: str, data_or_path: object) -> str:
    """Returns a file with this call's result: writes it to /workspace/out/<name>, which
    the bridge hands back at the end of the call (an image as an image, any other file as
    a resource link). `data_or_path`: bytes, text (written as UTF-8), or a path
    (`pathlib.Path`) of a file to copy. Returns the path written."""
    import os
    import shutil

    out = "/workspace/out"
    parts = [part for part in str(name).split("/") if part]
    if not parts or any(part in (".", "..") for part in parts):
        raise ValueError(f"artifact name must be a relative path inside {out}: {name!r}")
    target = os.path.join(out, *parts)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if isinstance(data_or_path, os.PathLike):
        shutil.copyfile(data_or_path, target)
    elif isinstance(data_or_path, (bytes, bytearray, memoryview)):
        with open(target, "wb") as file:
            file.write(data_or_path)
    elif isinstance(data_or_path, str):
        with open(target, "w", encoding="utf-8") as file:
            file.write(data_or_path)
    else:
        raise TypeError("data_or_path must be bytes, str or a pathlib.Path")
    return target
