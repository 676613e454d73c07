"""Code that both the sandbox (sandbox/mcp) and the package installer (sandbox/mcp_installer)
run: the host sends this package with each of them."""
