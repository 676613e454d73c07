"""Which modules a cell imports that this sandbox cannot import (for automatic installs)."""

from __future__ import annotations

import ast
import importlib.util
import sys

MAX_SOURCE_CHARS = 2_000_000


def missing_imports(code: str) -> list[str]:
    """Top-level names of absolute imports in `code` that no finder can locate, sorted.

    Static: the code is parsed, never run. Unparsable code gives [] (running it will
    report the syntax error properly)."""
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
    importlib.invalidate_caches()
    return sorted(name for name in wanted if not _importable(name))


def _importable(name: str) -> bool:
    if name in sys.modules or name in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
