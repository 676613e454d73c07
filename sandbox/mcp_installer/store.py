"""The package store's files, as the installer handles them: sizes, what pip may see of
the store, the distributions in a folder (read from their metadata, never imported), and
replacing a distribution's files by those of its new version."""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from email.message import Message
from email.parser import HeaderParser

from mcp_installer.failures import MiB
from mcp_shared.package_names import normalize

METADATA_FOLDER = re.compile(r"^[A-Za-z0-9_.+-]+\.(dist-info|egg-info)$")


def site_dir(root: str) -> str:
    # Keyed by interpreter (e.g. cpython-311): compiled wheels are ABI-specific, and a
    # sandbox image with another Python must not import them.
    return os.path.join(root, sys.implementation.cache_tag)


def tree_size(path: str) -> int:
    """Bytes of the regular files under path (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += file_size(os.path.join(folder, name))
    return total


def file_size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def store_metadata_view(site: str, work: str) -> str:
    """What pip may see of the store: copies of its metadata folders (*.dist-info,
    *.egg-info: names no import can reach) and nothing else, so pip installs only what is
    missing without being able to import anything an earlier install put there."""
    view = os.path.join(work, "store-metadata")
    os.makedirs(view)
    try:
        entries = os.listdir(site)
    except OSError:
        return view
    for entry in entries:
        source = os.path.join(site, entry)
        if not METADATA_FOLDER.match(entry) or os.path.islink(source) or not os.path.isdir(source):
            continue
        os.mkdir(os.path.join(view, entry))
        for name in os.listdir(source):
            path = os.path.join(source, name)
            if os.path.isfile(path) and not os.path.islink(path) and file_size(path) <= MiB:
                shutil.copyfile(path, os.path.join(view, entry, name))
    return view


def read_metadata(dist_info: str) -> Message:
    """The headers of a distribution's METADATA file (the standard library's email parser
    reads them, as importlib.metadata does); no headers when it cannot be read."""
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8", errors="replace") as f:
            return HeaderParser().parse(f)
    except OSError:
        return Message()


def metadata_name(dist_info: str) -> str:
    name = read_metadata(dist_info).get("Name")
    if name is not None:
        return str(name).strip()
    # name-version.dist-info
    return os.path.basename(dist_info)[: -len(".dist-info")].rsplit("-", 1)[0]


def metadata_version(dist_info: str) -> str:
    return str(read_metadata(dist_info).get("Version") or "").strip()


def dist_infos(folder: str) -> dict[str, list[str]]:
    """normalised name -> [dist-info folder] for the distributions in `folder`."""
    found: dict[str, list[str]] = {}
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return found
    for entry in entries:
        path = os.path.join(folder, entry)
        if entry.endswith(".dist-info") and os.path.isdir(path):
            found.setdefault(normalize(metadata_name(path)), []).append(path)
    return found


def installed_version(site: str, name: str) -> str | None:
    """Version of `name` as the sandbox would import it: the store first (read from its
    metadata, never imported), then the image."""
    found = dist_infos(site).get(normalize(name))
    if found:
        return metadata_version(found[-1]) or None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def inside(base: str, path: str) -> bool:
    return path == base or path.startswith(base + os.sep)


def record_files(site: str, dist_info: str) -> set[str]:
    """The files a distribution installed into `site`, by its RECORD (only paths that
    resolve inside `site`; scripts recorded as ../bin/… are left alone)."""
    files: set[str] = set()
    try:
        with open(os.path.join(dist_info, "RECORD"), newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if not row or not row[0]:
                    continue
                path = os.path.normpath(os.path.join(site, row[0]))
                if inside(site, path) and not inside(dist_info, path):
                    files.add(path)
    except OSError:
        pass
    return files


def remove_distribution(site: str, dist_info: str) -> None:
    folders = set()
    for path in record_files(site, dist_info):
        try:
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
                folders.add(os.path.dirname(path))
        except OSError:
            pass
    shutil.rmtree(dist_info, ignore_errors=True)
    # Remove the folders it emptied (deepest first), never `site` itself.
    for folder in sorted(folders, key=len, reverse=True):
        while inside(site, folder) and folder != site:
            try:
                os.rmdir(folder)  # fails unless empty
            except OSError:
                break
            folder = os.path.dirname(folder)


def replaced_bytes(site: str, old: list[str]) -> int:
    total = 0
    for dist_info in old:
        for path in record_files(site, dist_info) | {dist_info}:
            total += tree_size(path) if os.path.isdir(path) else file_size(path)
    return total


def merge_move(source: str, target: str) -> None:
    """Moves `source` to `target`; folders present on both sides are merged."""
    if os.path.isdir(source) and not os.path.islink(source):
        if os.path.isdir(target) and not os.path.islink(target):
            for entry in os.listdir(source):
                merge_move(os.path.join(source, entry), os.path.join(target, entry))
            os.rmdir(source)
            return
    if os.path.lexists(target):
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)
    os.replace(source, target)
