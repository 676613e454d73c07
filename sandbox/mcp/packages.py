"""Packages installed by the bridge (docs/packages.md), as the sandbox sees them.

The package store is a volume mounted read-only at /packages; packages live in
/packages/<interpreter tag> (e.g. /packages/cpython-311), which `activate()` puts on
`sys.path`. Installing is the host's job: it runs pip in a separate, short-lived
container that alone may write the store; this sandbox never gets network for it.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
from typing import Any

from mcp._rpc import MCPError, request_sync
from mcp_shared.package_names import normalize

STORE = "/packages"
# Compiled wheels are specific to the interpreter: each one gets its own folder.
SITE = os.path.join(STORE, sys.implementation.cache_tag or "python")
SITE_SUFFIXES = ("site-packages", "dist-packages")


def activate() -> None:
    """Puts the store on sys.path once: after the standard library (nothing installed can
    shadow it), before the image's site-packages (an installed version wins)."""
    if _store_finder not in sys.path_hooks:
        sys.path_hooks.insert(0, _store_finder)
    if SITE in sys.path:
        return
    sites = (i for i, entry in enumerate(sys.path) if entry.endswith(SITE_SUFFIXES))
    position = next(sites, len(sys.path))
    sys.path.insert(position, SITE)


def _store_finder(path: str) -> FileFinder:
    """A finder for the store folder even before it exists. The standard hook refuses a
    missing folder and Python then caches "nothing here" for it, so a package the host
    installed between two cells (the first install creates the folder) would stay
    invisible; a FileFinder notices the folder appear (its mtime changes)."""
    if path != SITE:
        raise ImportError("not the package store")
    return FileFinder(path, *_LOADERS)


_LOADERS = (
    (ExtensionFileLoader, EXTENSION_SUFFIXES),
    (SourceFileLoader, SOURCE_SUFFIXES),
    (SourcelessFileLoader, BYTECODE_SUFFIXES),
)


def refresh() -> None:
    """Makes packages installed since the last import visible (no restart needed)."""
    activate()
    sys.path_importer_cache.pop(SITE, None)
    importlib.invalidate_caches()


def install_package(name: str) -> dict[str, Any]:
    """Asks the bridge to install `name` (a package name with an optional version, e.g.
    "requests" or "pandas>=2,<3") into the store, and makes it importable at once.

    Returns `{"package", "success", "message", "installedAt", "version"?, "installed"?}`;
    `success` is False when pip failed, took too long or would exceed the size limit.
    Raises MCPError when the request is refused (not a valid name, or policy forbids it).
    """
    if not isinstance(name, str):
        raise MCPError(f"the package name must be a string, not {type(name).__name__}")
    answer = request_sync({"type": "install_package", "name": name})
    refresh()
    return answer


def list_packages() -> list[dict[str, str]]:
    """The packages in the store: `[{"name", "version"}]`, sorted by name. Packages that
    come with the sandbox image are not listed."""
    from importlib.metadata import distributions

    found: dict[str, dict[str, str]] = {}
    if os.path.isdir(SITE):
        for dist in distributions(path=[SITE]):
            name = dist.metadata["Name"] or ""
            if name:
                found.setdefault(normalize(name), {"name": name, "version": dist.version})
    return [found[key] for key in sorted(found)]
