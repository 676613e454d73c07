"""The in-sandbox `mcp` package: discovery and calling of the MCP servers the bridge proxies."""
