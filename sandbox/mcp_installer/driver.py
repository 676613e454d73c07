"""The installer's steps, from the request to the result line (see the package docstring).

The host builds pip's options; this program

1. takes an exclusive lock on the store (one install at a time, across bridges), and
   clears what an install that was killed left behind;
2. asks pip what it would install (`--dry-run --report`), letting pip see the store's
   metadata (so only what is missing is installed) but nothing importable from it;
3. downloads exactly those versions (`pip download --no-deps`) and checks every wheel's
   zip directory before anything is unpacked (wheel_checks.check_wheel);
4. installs the checked files into a staging folder on the volume (`--target --no-deps
   --no-index`), never straight into the store, and checks what was staged;
5. checks the store's size limit and the deny list against everything to be installed,
   and only then moves the staged files into the store, replacing older versions of the
   same distributions (their files are removed by their RECORD).

A failure at any step leaves the store as it was. The last stdout line is the result:
`__mcp_bridge_install__ {json}`; pip's own output goes to stdout/stderr before it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import uuid
from typing import Any, NotRequired, TypedDict, cast

from mcp_installer.failures import MiB, InstallFailed, megabytes
from mcp_installer.pip_runs import pip_env, pip_supports_report, resolve, run_pip
from mcp_installer.relay_forwarder import start_relay_forwarder
from mcp_installer.store import (
    dist_infos,
    installed_version,
    merge_move,
    metadata_name,
    metadata_version,
    remove_distribution,
    replaced_bytes,
    site_dir,
    store_metadata_view,
    tree_size,
)
from mcp_installer.wheel_checks import check_downloads, check_staged
from mcp_shared.package_names import normalize

RESULT_MARKER = "__mcp_bridge_install__ "
Result = dict[str, Any]


class DriverArguments(TypedDict):
    """What the host asks for (argv[1], JSON; DriverArguments in src/packages/)."""

    name: str
    requirement: str
    pipOptions: list[str]
    sourceOptions: NotRequired[list[str]]
    maxBytes: int
    deny: NotRequired[list[str]]
    # The package relay's socket, when pip goes through it.
    relaySocket: NotRequired[str]
    # The store's folder; the host's tests point it elsewhere.
    root: NotRequired[str]


class Request:
    """One install: what was asked for, the store, its limit and the deny list."""

    def __init__(self, args: DriverArguments) -> None:
        self.args = args
        self.requirement = args["requirement"]
        self.root = args.get("root", "/packages")
        self.site = site_dir(self.root)
        self.max_bytes = int(args["maxBytes"])
        self.deny = {normalize(name) for name in args.get("deny", [])}
        self.requested_name = normalize(args["name"])


def install(args: DriverArguments) -> Result:
    request = Request(args)
    try:
        os.makedirs(request.site, exist_ok=True)
        lock = open(os.path.join(request.root, ".lock"), "a+")
    except PermissionError:
        # The host repairs this (see storeOwner in src/packages/install-attempt.ts).
        owner = os.stat(request.root).st_uid
        raise InstallFailed(
            "the package store is not writable by the installer (its root folder belongs to "
            "uid %d, not 0: Podman gives a volume created without uid=0 to the first "
            "container that mounts it). Remove the volume (podman volume rm <name>, see "
            "MCP_BRIDGE_PACKAGES_VOLUME) and the bridge creates it again, correctly" % owner,
            storeOwner=owner,
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the container ends, whatever happens
        work_base = os.path.join(request.root, ".work")
        shutil.rmtree(work_base, ignore_errors=True)  # left by a killed install: we hold the lock
        work = os.path.join(work_base, uuid.uuid4().hex)
        os.makedirs(os.path.join(work, "tmp"))
        try:
            return install_locked(request, work)
        finally:
            shutil.rmtree(work_base, ignore_errors=True)


def install_locked(request: Request, work: str) -> Result:
    args, site = request.args, request.site
    env = pip_env(os.path.join(work, "tmp"))
    site_bytes = tree_size(site)
    # Downloads and unpacked files together may take about twice the installed size.
    limit = 2 * request.max_bytes + 16 * MiB
    target = os.path.join(work, "target")
    downloads = os.path.join(work, "downloads")
    common = args["pipOptions"]
    source = list(args.get("sourceOptions", []))
    relay_socket = args.get("relaySocket")
    if relay_socket:
        source += ["--proxy", start_relay_forwarder(relay_socket)]
    if pip_supports_report():
        view = store_metadata_view(site, work)
        plan = resolve(request.requirement, common + source, env, work, view, limit)
        for name, _version, _requested in plan:
            if normalize(name) in request.deny:
                raise InstallFailed(
                    "%s needs %s, which is on the deny list (MCP_BRIDGE_PACKAGES_DENY)"
                    % (request.requirement, name)
                )
        if not plan:
            version = installed_version(site, args["name"])
            return {"ok": True, "installed": [], "alreadySatisfied": True,
                    "requested": {"name": args["name"], "version": version},
                    "storeBytes": site_bytes, "addedBytes": 0}  # fmt: skip
        wanted = ["%s==%s" % (name, version) for name, version, _ in plan]
        deps = ["--no-deps"]
    else:  # pip < 22.2: no --report; the whole dependency tree is downloaded and installed
        wanted = [request.requirement]
        deps = []
    code = run_pip(
        ["download", *common, *source, *deps, "--dest", downloads, "--", *wanted],
        env, work, limit,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed(
            "pip could not download %s (exit code %d)" % (request.requirement, code)
        )
    check_downloads(downloads, request.max_bytes)
    code = run_pip(
        ["install", *common, "--no-index", "--find-links", downloads, "--target", target,
         *deps, "--", *wanted],
        env, work, limit,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed(
            "pip could not install %s (exit code %d)" % (request.requirement, code)
        )
    check_staged(target)
    staged = dist_infos(target)
    denied = sorted(name for name in staged if name in request.deny)
    if denied:
        raise InstallFailed("%s needs %s, on the deny list (MCP_BRIDGE_PACKAGES_DENY)"
                            % (request.requirement, ", ".join(denied)))  # fmt: skip
    return move_into_store(request, target, staged, site_bytes)


def move_into_store(
    request: Request, target: str, staged: dict[str, list[str]], site_bytes: int
) -> Result:
    """Moves the staged files into the store in place of the older versions of the same
    distributions, if the store stays within its limit."""
    site = request.site
    existing = dist_infos(site)
    old = [path for name in staged for path in existing.get(name, [])]
    staged_bytes = tree_size(target)
    after = site_bytes - replaced_bytes(site, old) + staged_bytes
    if after > request.max_bytes:
        raise InstallFailed(
            "installing %s (%s) would make the package store %s, over its limit of %s "
            "(MCP_BRIDGE_PACKAGES_MAX_MB); nothing was installed"
            % (request.requirement, megabytes(staged_bytes), megabytes(after),
               megabytes(request.max_bytes))
        )  # fmt: skip
    for dist_info in old:
        remove_distribution(site, dist_info)
    for entry in sorted(os.listdir(target)):
        merge_move(os.path.join(target, entry), os.path.join(site, entry))

    installed: list[dict[str, str]] = []
    requested = None
    for name, paths in sorted(dist_infos(site).items()):
        if name not in staged:
            continue
        found = {"name": metadata_name(paths[-1]), "version": metadata_version(paths[-1])}
        installed.append(found)
        if name == request.requested_name:
            requested = found
    return {"ok": True, "installed": installed, "alreadySatisfied": False, "requested": requested,
            "storeBytes": tree_size(site), "addedBytes": staged_bytes}  # fmt: skip


def main() -> None:
    started = time.monotonic()
    os.umask(0o022)  # the sandbox user must be able to read everything installed
    result: Result
    try:
        result = install(cast(DriverArguments, json.loads(sys.argv[1])))
    except InstallFailed as error:
        result = {"ok": False, "error": str(error), **error.details}
    except Exception as error:  # report, never a bare traceback only
        why = "%s: %s" % (type(error).__name__, error)
        result = {"ok": False, "error": "the installer failed: " + why}
    result["seconds"] = round(time.monotonic() - started, 3)
    sys.stdout.flush()
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    sys.exit(0 if result["ok"] else 1)
