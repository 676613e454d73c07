"""matplotlib's backend in the sandbox (MPLBACKEND=module://mcp_sandbox.mpl_backend):
Agg for drawing, and a show() that returns the open figures as images of the call.

Loaded by matplotlib itself, only when user code imports pyplot."""

from __future__ import annotations

from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import display

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase


def show(*_args: object, **_kwargs: object) -> None:
    """plt.show(): every open figure becomes an image of this call, and is closed."""
    current = display.current()
    if current is not None:
        current.show_figures()
