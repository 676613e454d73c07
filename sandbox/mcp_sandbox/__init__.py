"""The Python runner inside the sandbox container (see docs/protocol.md).

Loaded from memory by sandbox/bootstrap.py; `mcp_sandbox.runner.main` is the entry.
"""
