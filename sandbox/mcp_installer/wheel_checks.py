"""Wheel checks of the package installer (docs/packages.md, "Wheel checks").

A wheel is checked from its zip directory, before anything is unpacked; what pip staged
is checked again with the same rules (it also covers an sdist's build output).
"""

from __future__ import annotations

import os
import re
import stat
import sys
import zipfile
from typing import NoReturn

from mcp_installer.failures import MiB, InstallFailed, megabytes

# Wheel checks (check_wheel): modules Python runs at startup, and compression ratios no
# real package has (deflate cannot exceed about 1030:1; real files stay far below 200:1).
STARTUP_HOOKS = {"sitecustomize", "usercustomize"}
STDLIB = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
MAX_RATIO = 200
RATIO_CHECK_BYTES = 10 * MiB
MAX_ENTRIES = 100000


def installed_top_level(parts: list[str]) -> str | None:
    """The name a wheel entry lands under at the top of site-packages, or None (metadata,
    scripts, headers). `<name>.data/{purelib,platlib,data}/x` lands at the top too."""
    first = parts[0]
    if first.endswith(".dist-info"):
        return None
    if first.endswith(".data"):
        if len(parts) < 3 or parts[1] not in ("purelib", "platlib", "data"):
            return None
        parts = parts[2:]
    return parts[0] if len(parts) > 1 else parts[0].split(".")[0]


def check_wheel(path: str, limit: int) -> int:
    """Reads the wheel's zip directory (nothing is extracted) and refuses it when it would
    put a startup hook, a .pth file or a standard-library name in the store, has paths
    outside its folder or symlinks, or would unpack to more than `limit` bytes or at a
    zip bomb's ratio. Returns the declared uncompressed size."""
    wheel = os.path.basename(path)

    def refuse(reason: str) -> NoReturn:
        raise InstallFailed("the wheel %s was refused before unpacking: %s" % (wheel, reason))

    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        refuse("it is not a readable zip archive (%s)" % error)
    if len(entries) > MAX_ENTRIES:
        refuse("it has %d files, more than %d" % (len(entries), MAX_ENTRIES))
    total = 0
    for entry in entries:
        name = entry.filename
        parts = [part for part in name.split("/") if part not in ("", ".")]
        if (
            name.startswith("/") or "\\" in name or "\0" in name or ".." in parts
            or re.match(r"^[A-Za-z]:", name)
        ):  # fmt: skip
            refuse("it has a path outside its folder (%r)" % name[:200])
        if not parts:
            continue
        if stat.S_ISLNK(entry.external_attr >> 16):
            refuse("it contains a symlink (%s)" % name)
        if parts[-1].lower().endswith(".pth"):
            refuse("it contains a .pth file (%s), which Python runs at startup" % name)
        top = installed_top_level(parts)
        if top in STARTUP_HOOKS:
            refuse("it installs %s (%s), a module Python runs at startup" % (top, name))
        if top in STDLIB:
            refuse("it installs %s (%s), a name of the standard library" % (top, name))
        ratio = entry.file_size // max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECK_BYTES and ratio > MAX_RATIO:
            refuse("%s expands %d:1 to %s uncompressed, like a zip bomb"
                   % (name, ratio, megabytes(entry.file_size)))  # fmt: skip
        total += entry.file_size
    if total > limit:
        refuse("its files declare %s uncompressed, more than the package store may hold "
               "(%s, MCP_BRIDGE_PACKAGES_MAX_MB)" % (megabytes(total), megabytes(limit)))
    return total


def check_downloads(folder: str, limit: int) -> None:
    """check_wheel for every wheel pip downloaded, and their sizes together."""
    total = 0
    for entry in sorted(os.listdir(folder)):
        if entry.endswith(".whl"):
            total += check_wheel(os.path.join(folder, entry), limit)
    if total > limit:
        raise InstallFailed(
            "the wheels to install declare %s uncompressed together, more than the package "
            "store may hold (%s, MCP_BRIDGE_PACKAGES_MAX_MB); nothing was unpacked"
            % (megabytes(total), megabytes(limit)))  # fmt: skip


def check_staged(target: str) -> None:
    """The same rules on what pip really staged (an sdist's build output included)."""
    for folder, dirs, files in os.walk(target):
        for entry in dirs + files:
            if os.path.islink(os.path.join(folder, entry)):
                raise InstallFailed("the install was refused: it created a symlink (%s)" % entry)
    for entry in os.listdir(target):
        top = entry if os.path.isdir(os.path.join(target, entry)) else entry.split(".")[0]
        if entry.lower().endswith(".pth") or top in STARTUP_HOOKS or (
            top in STDLIB and not entry.endswith((".dist-info", ".egg-info"))
        ):
            raise InstallFailed(
                "the install was refused: it would put %s at the top of the package store "
                "(a startup hook, a .pth file or a standard-library name)" % entry
            )
