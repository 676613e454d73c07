"""Runs cells in one persistent __main__ namespace, with top-level await."""

from __future__ import annotations

import builtins
import linecache
import os
import sys
import time
import types
from ast import PyCF_ALLOW_TOP_LEVEL_AWAIT
from collections.abc import Callable
from typing import NamedTuple

from .coroutines import CoroutineCells
from .display import Display, Limits
from .interrupts import Interrupter
from .output import OutputCapture
from .protocol import Frame, positive_int
from .reaper import Reaper
from .servers import ServerSpec, Warn, parse_servers

RUNNER_FILES = os.path.dirname(__file__) + os.sep  # "/sandbox/mcp_sandbox/"
CO_COROUTINE = 0x0080  # inspect.CO_COROUTINE, without importing inspect
DEFAULT_MAX_OUTPUT_CHARS = 1 << 20
MAX_TOKEN_CHARS = 128


class Cell(NamedTuple):
    id: int
    code: str
    max_output_chars: int
    servers: tuple[ServerSpec, ...] = ()
    # Echoed in `done`: the host ignores a `done` without it, so user code, which is never
    # handed this tuple, cannot end its call early by writing one (code that digs it out
    # of the runner's memory can: docs/protocol.md, "Limits and trust").
    done_token: str = ""
    display: Limits = Limits()
    # time.perf_counter() when the frame was read, only when the host asked for timing.
    received_at: float = 0.0

    @classmethod
    def from_frame(cls, frame: Frame, warn: Warn) -> Cell:
        """Validates an `execute` frame (ValueError if it fails the schema; bad
        `servers` entries are only skipped, with a warning)."""
        code = frame.get("code")
        if not isinstance(code, str):
            raise ValueError("'code' must be a string")
        budget = frame.get("maxOutputChars", DEFAULT_MAX_OUTPUT_CHARS)
        if type(budget) is not int or budget < 0:
            raise ValueError("'maxOutputChars' must be a non-negative integer")
        token = frame.get("doneToken", "")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise ValueError(f"'doneToken' must be a string of at most {MAX_TOKEN_CHARS} chars")
        cell_id = positive_int(frame, "id")
        servers = parse_servers(frame.get("servers"), lambda m: warn(f"execute {cell_id}: {m}"))
        display = Limits.from_frame(frame.get("display"))
        return cls(cell_id, code, budget, servers, token, display)


# Prepares the namespace for a cell (MCP proxies); runs before the cell, outside it.
BeforeCell = Callable[[Cell, dict[str, object]], None]


class Executor:
    """Runs cells one at a time and turns each into a `done` frame."""

    def __init__(
        self,
        capture: OutputCapture,
        interrupter: Interrupter,
        reaper: Reaper,
        before_cell: BeforeCell | None = None,
        display: Display | None = None,
        timing: bool = False,
    ) -> None:
        self._timing = timing  # MCP_BRIDGE_TIMING: step times in each `done`
        self._compiled_at = 0.0
        self._capture = capture
        self._display = display
        self._before_cell = before_cell
        self._interrupter = interrupter
        self._reaper = reaper
        main = types.ModuleType("__main__")  # a clean one: the bootstrap's stays private
        main.__builtins__ = builtins  # type: ignore[attr-defined]
        sys.modules["__main__"] = main
        self._namespace = main.__dict__
        self._stdin = sys.stdin  # fd 0 is /dev/null: input() raises EOFError
        self._devnull = os.open(os.devnull, os.O_RDONLY)
        self._runner_pid = os.getpid()
        self._coroutines = CoroutineCells()

    def run(self, cell: Cell) -> Frame:
        """Runs one cell and returns its `done` frame, sent after all its output."""
        begun = time.perf_counter() if self._timing else 0.0
        self._capture.begin(cell.id, cell.max_output_chars)
        if self._display is not None:
            self._display.begin(cell.id, cell.display)
        os.dup2(self._devnull, 0)
        sys.stdin = self._stdin
        self._interrupter.install()
        filename = f"<cell-{cell.id}>"
        # mtime None: linecache.checkcache never evicts it. Tracebacks and
        # inspect.getsource read the cell's lines from here.
        linecache.cache[filename] = (len(cell.code), None, cell.code.splitlines(True), filename)
        self._prepare(cell)
        mark = self._reaper.mark()
        error: BaseException | None = None
        started = self._compiled_at = time.perf_counter()
        self._interrupter.arm(cell.id)
        try:
            self._interrupter.call_user(lambda: self._execute(cell.code, filename))
        except BaseException as raised:
            error = raised
        if self._display is not None and os.getpid() == self._runner_pid:
            error = self._show_figures(error)
        ended = time.perf_counter()
        duration_ms = (ended - started) * 1000
        if os.getpid() != self._runner_pid:
            # A process forked by user code finished the cell: it is not the runner.
            os._exit(self._outcome(error, interrupted=False)[1])
        interrupted = self._interrupter.disarm()
        self._coroutines.settle()
        outcome, exit_code = self._outcome(error, interrupted)
        if outcome == "interrupted":
            self._reaper.reap(mark)
        elif self._reaper.hit_limit_since(mark):
            killed = self._reaper.reap(mark)
            self._capture.stderr().write(
                f"[sandbox] This call hit the sandbox's process limit; the {killed} "
                "processes it started were killed.\n"
            )
        captured = time.perf_counter() if self._timing else 0.0
        dropped = self._capture.end()
        done: Frame = {
            "type": "done",
            "id": cell.id,
            "token": cell.done_token,
            "exitCode": exit_code,
            "outcome": outcome,
            "dropped": dropped,
            "durationMs": round(duration_ms, 3),
        }
        if self._timing:
            steps = (cell.received_at, begun, started, self._compiled_at, ended, captured)
            done["timing"] = _step_times(steps + (time.perf_counter(),))
        return done

    def _show_figures(self, error: BaseException | None) -> BaseException | None:
        """The figures the cell left open become its images, even after an exception.
        Under the interrupter: a slow render meets the call's timeout like user code."""
        display = self._display
        assert display is not None
        try:
            self._interrupter.call_user(display.end)
        except KeyboardInterrupt as raised:
            return error or raised
        except Exception as failed:  # a figure that cannot draw: say so, keep the outcome
            self._capture.stderr().write(f"[sandbox] could not show figures: {failed!r}\n")
        return error

    def _prepare(self, cell: Cell) -> None:
        if self._before_cell is None:
            return
        try:
            self._before_cell(cell, self._namespace)
        except Exception as failed:  # a runner bug: tell the cell, still run it
            self._capture.stderr().write(f"[sandbox] could not set up MCP servers: {failed!r}\n")

    def _execute(self, source: str, filename: str) -> None:
        code = compile(source, filename, "exec", PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        if self._timing:
            self._compiled_at = time.perf_counter()
        if code.co_flags & CO_COROUTINE:  # top-level await: eval gives a coroutine
            self._coroutines.run(eval(code, self._namespace))
        else:
            exec(code, self._namespace)

    def _outcome(self, error: BaseException | None, interrupted: bool) -> tuple[str, int]:
        if error is None:
            return "completed", 0
        if isinstance(error, SystemExit):
            return "completed", self._exit_status(error)
        self._print_traceback(error)
        if interrupted and isinstance(error, KeyboardInterrupt):
            return "interrupted", 130
        return "exception", 1  # includes a KeyboardInterrupt the host did not ask for

    def _exit_status(self, stop: SystemExit) -> int:
        if stop.code is None:
            return 0
        if isinstance(stop.code, int):
            return stop.code & 0xFF  # what the process would exit with: -1 → 255
        self._capture.stderr().write(f"{stop.code}\n")  # as Python does for sys.exit("msg")
        return 1

    def _print_traceback(self, error: BaseException) -> None:
        tb = _user_traceback(error.__traceback__)
        error.__traceback__ = tb
        sys.last_type, sys.last_value, sys.last_traceback = type(error), error, tb  # for pdb.pm()
        setattr(sys, "last_exc", error)  # the same for Python 3.12+ (unknown to 3.11)
        try:
            import traceback  # only sessions that fail pay for it

            text = "".join(traceback.format_exception(error))
        except Exception as failed:  # e.g. the cell holds every descriptor: no import
            text = f"{_headline(error)}\n[sandbox] no traceback: {failed!r}\n"
        # Our writer, not sys.stderr: user code may have redirected that.
        self._capture.stderr().write(text)


STEPS = ("wait", "prepare", "compile", "exec", "finish", "capture")


def _step_times(stamps: tuple[float, ...]) -> dict[str, float]:
    """Milliseconds between consecutive stamps, named as the host's schema expects."""
    return {
        name: round(max(0.0, (after - before) * 1000), 4)
        for name, before, after in zip(STEPS, stamps, stamps[1:])
    }


def _headline(error: BaseException) -> str:
    try:
        return f"{type(error).__name__}: {error}"
    except Exception:  # a __str__ of user code that fails
        return type(error).__name__


def _user_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback as user code should see it: from the first cell frame on, without
    the runner's own frames (such as the SIGINT handler that raised KeyboardInterrupt)."""
    kept: list[types.TracebackType] = []
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if (kept or filename.startswith("<cell-")) and not filename.startswith(RUNNER_FILES):
            kept.append(tb)
        tb = tb.tb_next
    for before, after in zip(kept, kept[1:] + [None]):
        before.tb_next = after
    return kept[0] if kept else None
