"""One module per MCP server loaded for the running call, named by the server's alias.

Each has an async function per tool (named by the tool's alias; `help()` shows its
description and parameters; `.sync(...)` blocks instead), `TOOLS` (the tools'
metadata) and `TOOL_MAP` (alias and name → metadata). Installed before each cell by
the runner; servers not loaded for the call are removed.
"""
