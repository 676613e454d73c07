"""Rich output of a cell: matplotlib figures, display() and PIL's show() become `image`
frames (docs/protocol.md, "Images").

Nothing here imports matplotlib or Pillow: a cell that draws nothing pays one dict
lookup at its end. Images are encoded, checked against the call's limits and, when too
large, downscaled here in the sandbox (matplotlib re-renders at a lower dpi; other
images go through Pillow when it is installed); what was dropped or shrunk is said in a
`notice` frame. The host checks every bound again: this code runs where user code can
change it."""

from __future__ import annotations

import base64
import builtins
import io
import math
import sys
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from .artifacts import OUT_DIR, OutFolder, artifact_line
from .protocol import Channel

PNG = "image/png"
JPEG = "image/jpeg"
SHRINK_ROUNDS = 4
SHRINK_MARGIN = 0.9  # aim below the cap: compressed size is not exactly proportional
MAX_NOTICE_CHARS = 500

# Renders the image at `scale` (1.0 = as it is) and returns (mime, bytes).
Render = Callable[[float], tuple[str, bytes]]


class Limits(NamedTuple):
    max_images: int = 0
    max_image_bytes: int = 0
    max_total_bytes: int = 0
    max_files: int = 0  # files out (artifacts.py); 0: /workspace/out is not looked at
    max_file_bytes: int = 0

    @classmethod
    def from_frame(cls, value: object) -> Limits:
        """The `display` field of an `execute` frame; absent: no images (internal cells)."""
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise ValueError("'display' must be an object")
        fields: list[int] = []
        for key in ("maxImages", "maxImageBytes", "maxTotalBytes", "maxFiles", "maxFileBytes"):
            field = value.get(key, 0)
            if type(field) is not int or field < 0:
                raise ValueError("'display' limits must be non-negative integers")
            fields.append(field)
        return cls(*fields)


class Display:
    """Per-cell image budget and the frames it sends. One per runner."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._cell: int | None = None
        self._limits = Limits()
        self._sent = 0
        self._bytes = 0
        self._over_count = 0
        self._notes: list[str] = []
        self._out = OutFolder()

    def begin(self, cell_id: int, limits: Limits) -> None:
        with self._lock:
            self._cell, self._limits = cell_id, limits
            self._sent = self._bytes = self._over_count = 0
            self._notes = []

    def end(self) -> None:
        """Shows the figures still open (user code is on the stack: the caller runs this
        under the interrupter, so a timeout can stop a slow render), then the notice."""
        try:
            self.show_figures()
            limits = self._limits
            self._out.collect(
                limits.max_files,
                limits.max_file_bytes,
                self._send_file,
                lambda mime, data, name: self._emit(_bytes_renderer(mime, data), name),
                self._note,
            )
        finally:
            self._send_notice()
            with self._lock:
                self._cell = None

    # What user code reaches (display(), plt.show(), Image.show()).

    def display(self, *objects: object) -> None:
        for obj in objects:
            render = self._renderer(obj)
            if render is not None:
                self._emit(render, _describe(obj))
            else:
                print(_text_repr(obj))

    def show_figures(self) -> None:
        """Every open pyplot figure, in number order, rendered and closed."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return  # nothing drew: the usual case costs this lookup
        for number in list(pyplot.get_fignums()):
            figure = pyplot.figure(number)
            try:
                self._emit(_figure_renderer(figure), f"figure {number}")
            finally:
                pyplot.close(figure)

    # Internals.

    def _renderer(self, obj: object) -> Render | None:
        if hasattr(obj, "savefig") and type(obj).__module__.startswith("matplotlib"):
            return _figure_renderer(obj)
        if type(obj).__module__.startswith("PIL.") and hasattr(obj, "resize"):
            return _pil_renderer(obj)
        for method, mime in (("_repr_png_", PNG), ("_repr_jpeg_", JPEG)):
            data = _call_repr(obj, method)
            if isinstance(data, str):
                data = base64.b64decode(data)  # IPython allows base64 text too
            if isinstance(data, bytes) and data:
                return _bytes_renderer(mime, data)
        return None

    def _emit(self, render: Render, what: str) -> None:
        with self._lock:
            if self._cell is None:
                return  # outside a cell (a background thread between calls): dropped
            limits = self._limits
            if self._sent >= limits.max_images:
                self._over_count += 1
                return
            cap = min(limits.max_image_bytes, limits.max_total_bytes - self._bytes)
        mime, data, note = _fit(render, cap)
        with self._lock:
            cell = self._running()  # the cell may have ended while this one rendered
            if cell is None:
                return
            if note:
                self._notes.append(f"{what}: {note}")
            if not data:
                return
            self._sent += 1
            self._bytes += len(data)
        encoded = base64.b64encode(data)
        head = b'{"type":"image","id":%d,"mimeType":"%s","data":"' % (cell, mime.encode())
        self._channel.send_line(head + encoded + b'"}\n')

    def _send_file(self, relative: str, mime: str, data: bytes) -> None:
        cell = self._running()
        if cell is not None:
            self._channel.send_line(artifact_line(cell, relative, mime, data))

    def _note(self, message: str) -> None:
        with self._lock:
            self._notes.append(message)

    def _running(self) -> int | None:
        return self._cell

    def _send_notice(self) -> None:
        with self._lock:
            notes, cell = list(self._notes), self._cell
            limits, over = self._limits, self._over_count
        if over and limits.max_images:
            notes.append(
                f"{over} more image{'s' if over > 1 else ''} not shown: at most "
                f"{limits.max_images} per call (MCP_BRIDGE_IMAGES_PER_CALL)"
            )
        if notes and cell is not None:
            message = "; ".join(notes)
            if len(message) > MAX_NOTICE_CHARS:
                message = message[: MAX_NOTICE_CHARS - 1] + "…"
            self._channel.send({"type": "notice", "id": cell, "message": message})


def _fit(render: Render, cap: int) -> tuple[str, bytes, str]:
    """Renders, and renders smaller while over `cap` bytes. (mime, data or b"", note)."""
    if cap <= 0:
        return PNG, b"", "not shown: the images of this call reached their byte budget"
    try:
        mime, data = render(1.0)
    except Exception as failed:
        return PNG, b"", f"could not be rendered ({type(failed).__name__}: {failed})"[:200]
    original = len(data)
    scale = 1.0
    for _ in range(SHRINK_ROUNDS):
        if len(data) <= cap:
            break
        scale *= math.sqrt(cap / len(data)) * SHRINK_MARGIN
        try:
            mime, data = render(scale)
        except Exception as failed:
            return mime, b"", f"too large and could not be downscaled ({failed})"[:200]
    if len(data) > cap:
        return mime, b"", f"not shown: {original:,} bytes, over the cap of {cap:,}"
    if scale < 1.0:
        return mime, data, (
            f"downscaled to {scale:.0%} of its size ({original:,} → {len(data):,} bytes) "
            "to fit MCP_BRIDGE_IMAGE_MAX_BYTES"
        )
    return mime, data, ""


def _figure_renderer(figure: Any) -> Render:
    def render(scale: float) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=figure.dpi * scale)
        return PNG, buffer.getvalue()

    return render


def _pil_renderer(image: Any) -> Render:
    def render(scale: float) -> tuple[str, bytes]:
        shown = image
        if scale < 1.0:
            size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            shown = image.resize(size)
        if shown.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            shown = shown.convert("RGBA")
        buffer = io.BytesIO()
        shown.save(buffer, format="PNG")
        return PNG, buffer.getvalue()

    return render


def _bytes_renderer(mime: str, data: bytes) -> Render:
    def render(scale: float) -> tuple[str, bytes]:
        if scale >= 1.0:
            return mime, data
        try:
            from PIL import Image  # only to shrink; absent under a slim image
        except ImportError:
            raise RuntimeError("Pillow is not installed") from None
        return _pil_renderer(Image.open(io.BytesIO(data)))(scale)

    return render


def _call_repr(obj: object, method: str) -> object:
    # Looked up on the type, as IPython does: a class itself is never rendered.
    if isinstance(obj, type) or not hasattr(type(obj), method):
        return None
    try:
        return getattr(obj, method)()
    except Exception:
        return None


def _text_repr(obj: object) -> str:
    """What a language model reads best: markdown, else the object's own repr (a
    DataFrame's table), else SVG or HTML source, else the default repr."""
    markdown = _call_repr(obj, "_repr_markdown_")
    if isinstance(markdown, str):
        return markdown
    if type(obj).__repr__ is object.__repr__:
        for method in ("_repr_svg_", "_repr_html_"):
            text = _call_repr(obj, method)
            if isinstance(text, str):
                return text
    return repr(obj)


def _describe(obj: object) -> str:
    return f"{type(obj).__name__} image"


_current: Display | None = None


def current() -> Display | None:
    """The runner's Display (for the matplotlib backend module)."""
    return _current


def install(display: Display) -> None:
    """Makes `display` a builtin, sends plt.show() through it, and Image.show()."""
    global _current
    _current = display
    builtins.display = display.display  # type: ignore[attr-defined]
    # Read by matplotlib when (if ever) it is imported: Agg, whose show() renders here.
    import os

    os.environ["MPLBACKEND"] = "module://mcp_sandbox.mpl_backend"
    try:  # where files to return go (artifacts.py); only inside the sandbox's /workspace
        os.mkdir(OUT_DIR)
    except OSError:
        pass
    sys.meta_path.insert(0, _AfterImport({"PIL.Image": _patch_pil}))


def _patch_pil(module: Any) -> None:
    def show(image: object, title: str | None = None, **_options: object) -> None:
        if _current is not None:
            _current.display(image)

    module.Image.show = show


class _AfterImport:
    """A meta-path finder that runs a hook on a module right after it is executed
    (so PIL.Image.show is ours even in the cell that first imports PIL)."""

    def __init__(self, hooks: dict[str, Callable[[Any], None]]) -> None:
        self._hooks = hooks

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        hook = self._hooks.get(name)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _HookedLoader(spec.loader, hook)  # type: ignore[assignment]
                return spec
        return None


class _HookedLoader:
    def __init__(self, loader: Any, hook: Callable[[Any], None]) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        try:
            self._hook(module)
        except Exception:  # a Pillow we do not know: its own show() stays
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
