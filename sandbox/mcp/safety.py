"""`check_code_safety(code)`: an advisory static check of Python source (README).

It parses the code with `ast` (never runs it) and reports dangerous imports and calls,
the classic indirections (`getattr(os, 'system')`, `__builtins__['eval']`,
`().__class__.__bases__[0].__subclasses__()`, `importlib.import_module(...)`) and
strings decoded or assembled before `exec`. The parser applies Python's own NFKC
normalisation of identifiers, so `ｅｖａｌ` is seen as the `eval` Python runs.

It is a convenience, not a boundary: the container is what contains the code
(docs/security.md). Hostile input costs bounded time and memory: sources over
MAX_SOURCE_BYTES or MAX_TOKENS are not parsed, nesting the parser or the walk cannot
handle becomes a finding, and the walk stops at BUDGET_SECONDS.
"""

from __future__ import annotations

import ast
import gc
import re
import sys
import threading
import time
import warnings
from types import FrameType
from typing import Any

from mcp.safety_calls import Finding
from mcp.safety_rules import HIGH, RANK
from mcp.safety_walk import Analyzer, OutOfTime

__all__ = ["check_code_safety", "MAX_SOURCE_BYTES", "MAX_TOKENS", "BUDGET_SECONDS"]

MAX_SOURCE_BYTES = 2_000_000
# The parser's tree costs up to ~1.3 KB per token: the token cap bounds its memory.
MAX_TOKENS = 100_000
BUDGET_SECONDS = 3.0
MAX_FINDINGS = 100
RECURSION_HEADROOM = 1000  # Python frames the parse and the walk may use
_TOKEN = re.compile(r"\w+|[^\w\s]|\n")
# One check at a time per process: the guard changes process-wide state (the recursion
# limit, the collector), which concurrent checks from threads would restore out of order.
_LOCK = threading.RLock()


def check_code_safety(code: str) -> dict[str, Any]:
    """Checks `code` without running it. Returns `{is_safe, warnings, findings,
    truncated}`: `findings` are `{rule, message, line, col, severity}` (severity
    "high" | "medium" | "low"; line and col 1-based, 0 for the source as a whole),
    `warnings` one readable line per finding, `is_safe` false when any finding is high
    or medium, `truncated` true when the checker's own limits stopped it short."""
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, not {type(code).__name__}")
    deadline = time.monotonic() + BUDGET_SECONDS
    findings, truncated = _analyse(code, 0, deadline)
    more = [f for f in findings if f["rule"] == "more_findings"]
    findings = [f for f in findings if f["rule"] != "more_findings"]
    findings.sort(key=lambda f: (f["line"], f["col"]))  # stable: walk order within a place
    findings = _unique(findings)
    if len(findings) > MAX_FINDINGS - bool(more):
        rest, findings = findings[MAX_FINDINGS - 1 :], findings[: MAX_FINDINGS - 1]
        more.extend(_more(len(rest), [f["severity"] for f in rest]))
    if more:
        findings.extend(_more(sum(f["count"] for f in more), [f["severity"] for f in more]))
    for finding in findings:
        finding.pop("count", None)
    unsafe = any(f["severity"] != "low" for f in findings)
    return {
        "is_safe": not unsafe,
        "warnings": [_warning(f) for f in findings],
        "findings": findings,
        "truncated": truncated,
    }


def _analyse(code: str, depth: int, deadline: float) -> tuple[list[Finding], bool]:
    """Findings for `code` (nested: a string passed to exec), and whether the limits cut
    the analysis short."""
    size = len(code) if code.isascii() else len(code.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        message = (
            f"source is {size:,} bytes, over the {MAX_SOURCE_BYTES:,}-byte limit: not analysed"
        )
        return [_whole("too_large", message, HIGH)], True
    if _too_many_tokens(code):
        message = f"source has over {MAX_TOKENS:,} tokens: not analysed"
        return [_whole("too_large", message, HIGH)], True
    analyzer = Analyzer(code, deadline, depth, lambda text, level: _analyse(text, level, deadline))
    with _LOCK, _Guard():
        try:
            tree = ast.parse(code, "<code>")
        except SyntaxError as error:
            return [_syntax_error(error)], False
        except (RecursionError, MemoryError) as error:
            return [_too_complex(error, "parse")], True
        except ValueError as error:  # null bytes (3.11), lone surrogates
            return [_whole("syntax_error", f"cannot be parsed: {error}", HIGH)], False
        try:
            analyzer.run(tree)
        except OutOfTime:
            message = (
                f"analysis stopped after {BUDGET_SECONDS:g} s: the rest of the code is unchecked"
            )
            analyzer.findings.append(_whole("time_budget", message, HIGH))
            analyzer.truncated = True
        except (RecursionError, MemoryError) as error:
            analyzer.findings.append(_too_complex(error, "analyse"))
            analyzer.truncated = True
        finally:
            del tree
    return analyzer.findings + _more(analyzer.dropped_count, analyzer.dropped), analyzer.truncated


def _more(count: int, severities: list[str]) -> list[Finding]:
    """A finding that stands for `count` findings not listed, as severe as the worst."""
    if not count:
        return []
    worst = max(severities, key=RANK.__getitem__)
    message = f"and {count:,} more finding{'s' if count > 1 else ''}"
    return [{**_whole("more_findings", message, worst), "count": count}]


class _Guard:
    """Around parse and walk: no warnings printed (invalid escapes and the like), the
    garbage collector paused (the tree holds no cycles; scanning it repeatedly is what
    makes large trees slow), and the recursion limit set to RECURSION_HEADROOM above the
    current depth. On Python 3.11 the parser's C recursion allowance follows that limit,
    so a cell that raised it (sys.setrecursionlimit(10**6)) cannot make deep input
    overflow the C stack."""

    def __enter__(self) -> None:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._gc = gc.isenabled()
        gc.disable()
        self._limit = sys.getrecursionlimit()
        sys.setrecursionlimit(_depth() + RECURSION_HEADROOM)

    def __exit__(self, *exc: object) -> None:
        sys.setrecursionlimit(self._limit)
        if self._gc:
            gc.enable()
        self._warnings.__exit__(None, None, None)


def _depth() -> int:
    frame: FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _too_many_tokens(code: str) -> bool:
    count = 0
    for _ in _TOKEN.finditer(code):
        count += 1
        if count > MAX_TOKENS:
            return True
    return False


def _syntax_error(error: SyntaxError) -> Finding:
    line = error.lineno or 0
    return {
        "rule": "syntax_error",
        "message": f"does not parse: {error.msg}",
        "line": line,
        "col": (error.offset or 1) if line else 0,
        "severity": HIGH,
    }


def _too_complex(error: BaseException, stage: str) -> Finding:
    reason = "nested too deeply" if isinstance(error, RecursionError) else "too large for memory"
    message = f"code is {reason} to {stage} ({type(error).__name__}): not analysed"
    return _whole("too_complex", message, HIGH)


def _whole(rule: str, message: str, severity: str) -> Finding:
    return {"rule": rule, "message": message, "line": 0, "col": 0, "severity": severity}


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for finding in findings:
        key = (finding["rule"], finding["message"], finding["line"], finding["col"])
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _warning(finding: Finding) -> str:
    where = f"line {finding['line']}" if finding["line"] else "source"
    return f"{where}: {finding['message']} [{finding['severity']}]"
