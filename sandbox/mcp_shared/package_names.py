"""Distribution names compared as pip compares them (PEP 503)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """Lower case, each run of `-`, `_` and `.` one `-`: `Python_Dateutil` and
    `python-dateutil` are the same distribution. The host's normalizePackageName
    (src/packages/package-spec.ts) does the same."""
    return _SEPARATORS.sub("-", name).lower()
