"""Saved tools: functions whose source the host keeps (under its state dir) and loads
into `__main__` at the start of every new sandbox.

Only a single plain function definition may be saved (mcp/_tool_rule.py says exactly
what, and why): loading one then runs nothing of the agent's and hides no name.

The source is read with inspect.getsource, which works because the runner registers
each cell's text in linecache (as `<cell-N>`) and we register each saved tool's text
(as `<saved-tool-NAME>`), so a loaded tool can be saved again."""

from __future__ import annotations

import linecache
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp._rpc import MCPError, request_sync
from mcp._tool_rule import tool_problem

# The host reads these lines of the loader's stdout (src/state/saved-tool-loader.ts).
REPORT = "[saved-tool] "
# Defining a function that follows the rule takes microseconds; anything slower is wrong.
LOAD_BUDGET_SECONDS = 2.0


def save_tool(func: Any) -> str:
    """Keeps `func` (a function defined with `def` at the top level of a cell) for
    every later session; returns its name. Its docstring's first line describes it.

    It must be a plain function: no decorators, literal default values, annotations
    that are names or strings, a name that is not a builtin or one the sandbox provides."""
    import inspect
    import textwrap

    if not inspect.isfunction(func):
        raise MCPError(f"save_tool() needs a function defined with def, not {type(func).__name__}")
    name = func.__name__
    if name == "<lambda>":
        raise MCPError("save_tool() cannot save a lambda: define it with `def name(...):`")
    if func.__qualname__ != name:
        # Nested functions and methods need their surroundings, which are not saved.
        raise MCPError(
            f"save_tool() saves top-level functions; {func.__qualname__} is defined inside another"
        )
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as error:
        raise MCPError(f"cannot read the source of {name}: {error}") from None
    # One line ending, as Python reads them; the last line of a cell has none.
    source = source.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"
    problem = tool_problem(name, source)
    if problem is not None:
        raise MCPError(f"Cannot save '{name}': {problem}.")
    payload: dict[str, object] = {"type": "save_tool", "name": name, "source": source}
    doc = inspect.getdoc(func)
    if doc and doc.strip():
        payload["description"] = doc.strip().splitlines()[0]
    saved = request_sync(payload).get("saved")
    return saved if isinstance(saved, str) else name


def list_saved_tools() -> list[dict[str, Any]]:
    """The saved tools: `[{name, description?, savedAt}]`."""
    tools = request_sync({"type": "list_saved_tools"}).get("tools")
    return tools if isinstance(tools, list) else []


def delete_saved_tool(name: str) -> bool:
    """Forgets a saved tool (from the next session on); False if there was none."""
    if not isinstance(name, str):
        raise MCPError("the tool name must be a string")
    return request_sync({"type": "delete_saved_tool", "name": name}).get("deleted") is True


def _load_saved_tools(tools_json: str = "[]") -> None:
    """Defines each saved tool in `__main__`: the host's first internal cell of every
    sandbox, before any of the agent's code. `tools_json` is `[[name, source], ...]`.
    Reports each step on stdout for the host; a tool that fails the rule, raises or
    takes too long is reported for quarantine and skipped."""
    import json

    namespace = sys.modules["__main__"].__dict__
    for entry in json.loads(tools_json):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            continue
        name, source = entry
        if not name.isidentifier():  # the host sends only valid names; a report is one line
            continue
        _report(f"loading {name}")
        problem = _load(name, source, namespace)
        if problem is None:
            _report(f"loaded {name}")
        else:
            _report(f"quarantine {name} {json.dumps(problem)}")


def _report(line: str) -> None:
    sys.stdout.write(REPORT + line + "\n")
    sys.stdout.flush()


def _load(name: str, source: object, namespace: dict[str, Any]) -> str | None:
    """Checks and defines one saved tool; the problem in one line, or None."""
    import __future__
    import traceback

    try:
        with _budget(LOAD_BUDGET_SECONDS):
            # Checked again here, in a fresh interpreter before the agent's code ran:
            # the host's copy may predate the rule, or its check may have missed.
            problem = tool_problem(name, source)
            if problem is not None or not isinstance(source, str):
                return problem or "its source is not text"
            filename = f"<saved-tool-{name}>"
            # mtime None: linecache.checkcache never evicts it (tracebacks, getsource).
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            # Postponed annotations: kept as text, never evaluated at load (any version).
            flags = __future__.annotations.compiler_flag
            exec(compile(source, filename, "exec", flags, dont_inherit=True), namespace)
    except _TooSlow:
        return f"loading it took longer than {LOAD_BUDGET_SECONDS:g} s"
    except (Exception, SystemExit) as error:  # not KeyboardInterrupt: the host's interrupt
        raised = traceback.format_exception_only(type(error), error)[-1].strip()
        return "loading it raised " + raised
    if not callable(namespace.get(name)):
        return f"its source does not define {name}()"
    return None


class _TooSlow(BaseException):
    """The load budget ran out (a BaseException: nothing being loaded may catch it)."""


@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Raises _TooSlow in the block after `seconds` (SIGALRM: the main thread only, where
    cells run; a C-level hang is left to the host's timeout of the whole cell)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
