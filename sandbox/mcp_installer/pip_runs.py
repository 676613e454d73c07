"""Running pip for the installer: isolated, with an environment of its own, watched for
size, and asked what it would install."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from mcp_installer.failures import InstallFailed, megabytes
from mcp_installer.store import tree_size

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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

# One planned install: (name, version, whether it is the requested distribution).
Planned = tuple[str, str, bool]


def pip_env(tmp: str) -> dict[str, str]:
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


def run_pip(args: list[str], env: dict[str, str], watch: str, limit: int, view: str = "") -> int:
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


def pip_supports_report() -> bool:
    try:
        from importlib.metadata import version

        parts = [int(p) for p in re.findall(r"\d+", version("pip"))[:2]]
    except Exception:
        return False
    return parts >= [22, 2]


def resolve(
    requirement: str, options: list[str], env: dict[str, str], work: str, view: str, limit: int
) -> list[Planned]:
    """What pip would install for the requirement."""
    report = os.path.join(work, "report.json")
    code = run_pip(
        [
            "install", *options, "--dry-run", "--quiet", "--report", report,
            "--upgrade-strategy", "only-if-needed", "--", requirement,
        ],
        env, work, limit, view,
    )  # fmt: skip
    if code != 0:
        raise InstallFailed("pip could not resolve %s (exit code %d)" % (requirement, code))
    with open(report, encoding="utf-8") as f:
        items = json.load(f).get("install", [])
    return [
        (item["metadata"]["name"], item["metadata"]["version"], bool(item.get("requested")))
        for item in items
    ]
