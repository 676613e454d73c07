"""The package installer's driver (docs/packages.md). It runs in the short-lived installer
container, never in the sandbox: `python3 -I -c <program> <json>`, with the package store
volume mounted read-write at /packages, where <program> is this file, then
sandbox/installer/wheel_checks.py and sandbox/installer/relay_forwarder.py, joined by the
host (installerDriverSource in src/packages/installer.ts), then a call of main(). The host
builds pip's options; this program

1. takes an exclusive lock on the store (one install at a time, across bridges), and
   clears what an install that was killed left behind;
2. asks pip what it would install (`--dry-run --report`), letting pip see the store's
   metadata (so only what is missing is installed) but nothing importable from it;
3. downloads exactly those versions (`pip download --no-deps`) and checks every wheel's
   zip directory before anything is unpacked (check_wheel);
4. installs the checked files into a staging folder on the volume (`--target --no-deps
   --no-index`), never straight into the store, and checks what was staged;
5. checks the store's size limit and the deny list against everything to be installed,
   and only then moves the staged files into the store, replacing older versions of the
   same distributions (their files are removed by their RECORD).

Security: pip and this script run isolated (`-I`): no PYTHON* variable, no user site,
and never the store on sys.path, so nothing an earlier install put there (a
sitecustomize, a module named like the standard library) runs here. The container has
no network; with an index, pip's proxy is a forwarder to the bridge's package relay
(start_relay_forwarder), which reaches the index and its file hosts only.

A failure at any step leaves the store as it was. The last stdout line is the result:
`__mcp_bridge_install__ {json}`; pip's own output goes to stdout/stderr before it.
"""

import csv
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

RESULT_MARKER = "__mcp_bridge_install__ "
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MiB = 1024 * 1024
# Runs pip isolated, with the store's metadata (and nothing importable) on its path: argv
# is [-c, <metadata folder or "">, pip arguments…].
PIP_LAUNCHER = """import runpy, sys
view = sys.argv.pop(1)
if view:
    sites = [i for i, p in enumerate(sys.path) if p.endswith(("site-packages", "dist-packages"))]
    sys.path.insert(sites[0] if sites else len(sys.path), view)
sys.argv[0] = "pip"
runpy.run_module("pip", run_name="__main__", alter_sys=True)
"""
METADATA_FOLDER = re.compile(r"^[A-Za-z0-9_.+-]+\.(dist-info|egg-info)$")


class InstallFailed(Exception):
    """An expected failure, reported to the host with this message."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details  # extra result fields for the host


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def tree_size(path):
    """Bytes of the regular files under path (symlinks not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def megabytes(size):
    return "%.1f MB" % (size / MiB)


def site_dir(root):
    # Keyed by interpreter (e.g. cpython-311): compiled wheels are ABI-specific, and a
    # sandbox image with another Python must not import them.
    return os.path.join(root, sys.implementation.cache_tag)


def pip_env(tmp):
    """pip's whole environment: nothing inherited, so no PIP_* variable of the image can
    add an index; PIP_CONFIG_FILE=/dev/null makes pip skip every config file. (-I makes
    Python ignore PYTHON* variables anyway.)"""
    return {
        "PATH": os.environ.get("PATH", DEFAULT_PATH),
        "HOME": tmp,
        "TMPDIR": tmp,
        "LANG": "C.UTF-8",
        "PIP_BREAK_SYSTEM_PACKAGES": "1",  # Debian's pip refuses --target/--dry-run otherwise
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_ROOT_USER_ACTION": "ignore",
    }


def run_pip(args, env, watch, limit, view=""):
    """Runs pip isolated (see PIP_LAUNCHER); kills it if the folder `watch` grows past
    `limit` bytes."""
    process = subprocess.Popen(
        [sys.executable, "-I", "-u", "-c", PIP_LAUNCHER, view, *args],
        env=env, stdin=subprocess.DEVNULL, cwd=env["TMPDIR"],
    )  # fmt: skip
    while True:
        try:
            return process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if tree_size(watch) > limit:
                process.kill()
                process.wait()
                raise InstallFailed(
                    "the download grew past %s, more than the package store may hold "
                    "(MCP_BRIDGE_PACKAGES_MAX_MB)" % megabytes(limit)
                )


def store_metadata_view(site, work):
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
            if os.path.isfile(path) and not os.path.islink(path) and _size(path) <= MiB:
                shutil.copyfile(path, os.path.join(view, entry, name))
    return view


def pip_supports_report():
    try:
        from importlib.metadata import version

        parts = [int(p) for p in re.findall(r"\d+", version("pip"))[:2]]
    except Exception:
        return False
    return parts >= [22, 2]


def read_metadata_field(dist_info, field):
    """The value of `field` (lower case) in the METADATA headers, or None."""
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break  # the headers end at the first blank line
    except OSError:
        pass
    return None


def read_metadata_name(dist_info):
    name = read_metadata_field(dist_info, "name")
    if name is not None:
        return name
    # name-version.dist-info
    return os.path.basename(dist_info)[: -len(".dist-info")].rsplit("-", 1)[0]


def read_metadata_version(dist_info):
    return read_metadata_field(dist_info, "version") or ""


def dist_infos(folder):
    """normalised name -> [dist-info folder] for the distributions in `folder`."""
    found = {}
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return found
    for entry in entries:
        path = os.path.join(folder, entry)
        if entry.endswith(".dist-info") and os.path.isdir(path):
            found.setdefault(normalize(read_metadata_name(path)), []).append(path)
    return found


def inside(base, path):
    return path == base or path.startswith(base + os.sep)


def record_files(site, dist_info):
    """The files a distribution installed into `site`, by its RECORD (only paths that
    resolve inside `site`; scripts recorded as ../bin/… are left alone)."""
    files = set()
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


def remove_distribution(site, dist_info):
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


def replaced_bytes(site, old):
    total = 0
    for dist_info in old:
        for path in record_files(site, dist_info) | {dist_info}:
            total += tree_size(path) if os.path.isdir(path) else _size(path)
    return total


def _size(path):
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def merge_move(source, target):
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


def installed_version(site, name):
    """Version of `name` as the sandbox would import it: the store first (read from its
    metadata, never imported), then the image."""
    found = dist_infos(site).get(normalize(name))
    if found:
        return read_metadata_version(found[-1]) or None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def resolve(args, options, env, work, view, limit):
    """What pip would install for the requirement: [(name, version, requested)]."""
    report = os.path.join(work, "report.json")
    code = run_pip(
        [
            "install", *options, "--dry-run", "--quiet", "--report", report,
            "--upgrade-strategy", "only-if-needed", "--", args["requirement"],
        ],
        env, work, limit, view,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed("pip could not resolve %s (exit code %d)" % (args["requirement"], code))
    with open(report, encoding="utf-8") as f:
        items = json.load(f).get("install", [])
    return [
        (item["metadata"]["name"], item["metadata"]["version"], bool(item.get("requested")))
        for item in items
    ]


def install(args):
    root = args.get("root", "/packages")
    site = site_dir(root)
    max_bytes = int(args["maxBytes"])
    deny = {normalize(name) for name in args.get("deny", [])}
    requested_name = normalize(args["name"])
    try:
        os.makedirs(site, exist_ok=True)
        lock = open(os.path.join(root, ".lock"), "a+")
    except PermissionError:
        # The host repairs this (see storeOwner in src/packages/package-manager.ts).
        owner = os.stat(root).st_uid
        raise InstallFailed(
            "the package store is not writable by the installer (its root folder belongs to "
            "uid %d, not 0: Podman gives a volume created without uid=0 to the first "
            "container that mounts it). Remove the volume (podman volume rm <name>, see "
            "MCP_BRIDGE_PACKAGES_VOLUME) and the bridge creates it again, correctly" % owner,
            storeOwner=owner,
        ) from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the container ends, whatever happens
        work_base = os.path.join(root, ".work")
        shutil.rmtree(work_base, ignore_errors=True)  # left by a killed install: we hold the lock
        work = os.path.join(work_base, uuid.uuid4().hex)
        tmp = os.path.join(work, "tmp")
        os.makedirs(tmp)
        try:
            return _install_locked(args, site, work, tmp, max_bytes, deny, requested_name)
        finally:
            shutil.rmtree(work_base, ignore_errors=True)


def _install_locked(args, site, work, tmp, max_bytes, deny, requested_name):
    env = pip_env(tmp)
    site_bytes = tree_size(site)
    # Downloads and unpacked files together may take about twice the installed size.
    limit = 2 * max_bytes + 16 * MiB
    target = os.path.join(work, "target")
    downloads = os.path.join(work, "downloads")
    common = args["pipOptions"]
    source = list(args.get("sourceOptions", []))
    if args.get("relaySocket"):
        source += ["--proxy", start_relay_forwarder(args["relaySocket"])]
    if pip_supports_report():
        view = store_metadata_view(site, work)
        plan = resolve(args, common + source, env, work, view, limit)
        for name, _version, _requested in plan:
            if normalize(name) in deny:
                raise InstallFailed(
                    "%s needs %s, which is on the deny list (MCP_BRIDGE_PACKAGES_DENY)"
                    % (args["requirement"], name)
                )
        if not plan:
            version = installed_version(site, args["name"])
            return {"ok": True, "installed": [], "alreadySatisfied": True,
                    "requested": {"name": args["name"], "version": version},
                    "storeBytes": site_bytes, "addedBytes": 0}  # fmt: skip
        wanted = ["%s==%s" % (name, version) for name, version, _ in plan]
        deps = ["--no-deps"]
    else:  # pip < 22.2: no --report; the whole dependency tree is downloaded and installed
        wanted = [args["requirement"]]
        deps = []
    code = run_pip(
        ["download", *common, *source, *deps, "--dest", downloads, "--", *wanted],
        env, work, limit,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed(
            "pip could not download %s (exit code %d)" % (args["requirement"], code)
        )
    check_downloads(downloads, max_bytes)
    code = run_pip(
        ["install", *common, "--no-index", "--find-links", downloads, "--target", target,
         *deps, "--", *wanted],
        env, work, limit,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed("pip could not install %s (exit code %d)" % (args["requirement"], code))
    check_staged(target)

    staged = dist_infos(target)
    denied = sorted(name for name in staged if name in deny)
    if denied:
        raise InstallFailed("%s needs %s, on the deny list (MCP_BRIDGE_PACKAGES_DENY)"
                            % (args["requirement"], ", ".join(denied)))  # fmt: skip
    existing = dist_infos(site)
    old = [path for name in staged for path in existing.get(name, [])]
    staged_bytes = tree_size(target)
    after = site_bytes - replaced_bytes(site, old) + staged_bytes
    if after > max_bytes:
        raise InstallFailed(
            "installing %s (%s) would make the package store %s, over its limit of %s "
            "(MCP_BRIDGE_PACKAGES_MAX_MB); nothing was installed"
            % (args["requirement"], megabytes(staged_bytes), megabytes(after), megabytes(max_bytes))
        )
    for dist_info in old:
        remove_distribution(site, dist_info)
    for entry in sorted(os.listdir(target)):
        merge_move(os.path.join(target, entry), os.path.join(site, entry))

    installed = []
    requested = None
    for name, paths in sorted(dist_infos(site).items()):
        if name not in staged:
            continue
        version = read_metadata_version(paths[-1])
        installed.append({"name": read_metadata_name(paths[-1]), "version": version})
        if name == requested_name:
            requested = {"name": installed[-1]["name"], "version": version}
    return {"ok": True, "installed": installed, "alreadySatisfied": False,
            "requested": requested, "storeBytes": tree_size(site), "addedBytes": staged_bytes}  # fmt: skip


def main():
    started = time.monotonic()
    os.umask(0o022)  # the sandbox user must be able to read everything installed
    try:
        result = install(json.loads(sys.argv[1]))
    except InstallFailed as error:
        result = {"ok": False, "error": str(error), **error.details}
    except Exception as error:  # report, never a bare traceback only
        result = {"ok": False, "error": "the installer failed: %s: %s" % (type(error).__name__, error)}
    result["seconds"] = round(time.monotonic() - started, 3)
    sys.stdout.flush()
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    sys.exit(0 if result["ok"] else 1)

