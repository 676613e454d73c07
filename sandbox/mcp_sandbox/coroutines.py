"""Cells with top-level await: run on one event loop kept for the whole session."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # asyncio is imported on first use: most sessions never await
    import asyncio

CANCEL_SECONDS = 1.0  # how long an interrupted coroutine may take to honour cancel()


class CoroutineCells:
    """Runs the coroutines of cells that await, and tidies up after interrupted ones."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[object] | None = None
        self._awaited: asyncio.Future[Any] | None = None

    def run(self, cell: Coroutine[object, object, object]) -> None:
        """Runs a cell's coroutine to its end (called under user code's boundary)."""
        loop = self._event_loop()
        self._task = loop.create_task(cell)
        self._run_until_done(loop, self._task)
        self._task.result()  # the cell's exception, if any, with its traceback

    def settle(self) -> None:
        """After the cell: cancels its task if an interrupt left it pending."""
        task, self._task = self._task, None
        if task is None or self._loop is None:
            return
        if not task.done():
            import asyncio

            task.cancel()
            waiter = self._loop.create_task(asyncio.wait([task], timeout=CANCEL_SECONDS))
            try:
                self._run_until_done(self._loop, waiter)
            except BaseException:
                pass  # e.g. sys.exit() in the cell's cleanup: the cell is over anyway
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" noise

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        import asyncio

        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)  # user code may have reset it (asyncio.run does)
        return self._loop

    def _run_until_done(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        # Not loop.run_until_complete: a KeyboardInterrupt can leave its stop callback
        # scheduled, and that stale callback would end the next cell's run early
        # ("Event loop stopped before Future completed"). Ours stops the loop only for
        # the future awaited now, and a stray stop just means another turn.
        self._awaited = future
        future.add_done_callback(self._stop_if_awaited)
        while not future.done():
            loop.run_forever()

    def _stop_if_awaited(self, future: asyncio.Future[Any]) -> None:
        if future is self._awaited:
            future.get_loop().stop()
