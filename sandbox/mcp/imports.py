"""Which modules a cell imports that this sandbox cannot import (for automatic installs).

The lookup runs in a fresh interpreter (`python3 -I`, with a time limit), not in the
session: the session's import machinery (sys.meta_path, importlib itself) is user code's
to change, so it is not asked. The host trusts the answer no further than any request
from the sandbox: it dedupes, caps and validates the names (src/server/dependencies.ts).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

MAX_SOURCE_CHARS = 2_000_000
LOOKUP_TIMEOUT_SECONDS = 10
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)

# Reads {"path": [...], "names": [...]} on stdin; prints the names no finder locates.
_LOOKUP = """import importlib.util, json, sys
request = json.load(sys.stdin)
sys.path[:] = request["path"]
def found(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
print(json.dumps([name for name in request["names"] if not found(name)]))
"""


def missing_imports(code: str) -> list[str]:
    """Top-level names of absolute imports in `code` that no finder can locate, sorted.

    Static: the code is parsed, never run. Unparsable code gives [] (running it will
    report the syntax error properly); so does a lookup that fails or takes too long."""
    if len(code) > MAX_SOURCE_CHARS:
        return []
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    wanted: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            wanted.add(node.module.split(".")[0])
    # Already imported, built in or standard library: never something to install.
    candidates = sorted(name for name in wanted if name not in sys.modules and name not in STDLIB)
    if not candidates:
        return []
    return _lookup(candidates)


def _lookup(names: list[str]) -> list[str]:
    """The names a fresh interpreter with this session's sys.path (as plain folders and
    archives; '' is the working directory) cannot find."""
    path = [os.getcwd() if entry == "" else entry for entry in sys.path if isinstance(entry, str)]
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _LOOKUP],
            input=json.dumps({"path": path, "names": names}),
            capture_output=True,
            text=True,
            timeout=LOOKUP_TIMEOUT_SECONDS,
            check=False,
        )
        missing = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    return [name for name in names if name in missing]
