"""The in-sandbox `mcp` package: discover and call the MCP servers the bridge proxies.

Start with `from mcp import runtime; print(runtime.capability_summary())`.
Loaded servers are also reachable as `mcp_<alias>` globals and `mcp.servers.<alias>`.
"""
