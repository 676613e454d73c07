"""Files out: what a cell wrote under /workspace/out becomes `artifact` frames (and
images, for PNG and JPEG files), sent at the end of the cell (docs/protocol.md, "Files
out").

Only files new or changed since the last look are sent. Links, FIFOs, sockets and
devices are refused with a notice: nothing is followed, nothing blocks. The host checks
every name and size again; nothing here is a boundary (user code can read and write
everything this code can)."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from typing import NamedTuple

OUT_DIR = "/workspace/out"
MAX_DEPTH = 8
MAX_ENTRIES = 1000  # looked at per cell; a tree of millions of files cannot stall the end
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

# (relative path, mime type, bytes) → sent; (image mime, bytes, name) → shown as an image.
SendFile = Callable[[str, str, bytes], None]
ShowImage = Callable[[str, bytes, str], None]


class Found(NamedTuple):
    path: str
    size: int


class OutFolder:
    """Remembers what was already sent (by inode, size and mtime) between cells."""

    def __init__(self, root: str = OUT_DIR) -> None:
        self._root = root
        self._sent: dict[str, tuple[int, int, int]] = {}

    def collect(
        self,
        max_files: int,
        max_file_bytes: int,
        send_file: SendFile,
        show_image: ShowImage,
        note: Callable[[str], None],
    ) -> None:
        if max_files <= 0:
            return
        try:
            top = os.lstat(self._root)
        except OSError:
            return  # no out folder: the usual case costs this one call
        if not stat.S_ISDIR(top.st_mode):
            note(f"{self._root} is not a folder (a link or a file): nothing was returned from it")
            return
        refused: list[str] = []
        sent = skipped = 0
        for relative, info in self._walk():
            key = (info.st_ino, info.st_size, info.st_mtime_ns)
            if self._sent.get(relative) == key:
                continue  # sent or refused already: said once
            if not stat.S_ISREG(info.st_mode):
                self._sent[relative] = key
                refused.append(relative)
                continue
            if sent >= max_files:
                skipped += 1
                continue
            if info.st_size > max_file_bytes:
                note(f"{relative}: not returned, {info.st_size:,} bytes is over {max_file_bytes:,}")
                self._sent[relative] = key
                continue
            data = self._read(relative)
            if data is None:
                refused.append(relative)
                continue
            self._sent[relative] = key
            sent += 1
            image = IMAGE_TYPES.get(os.path.splitext(relative)[1].lower())
            if image is not None:
                show_image(image, data, relative)
            else:
                send_file(relative, _mime(relative, data), data)
        if refused:
            listed = ", ".join(refused[:5]) + (" …" if len(refused) > 5 else "")
            note(f"not returned (links, FIFOs, sockets and devices are refused): {listed}")
        if skipped:
            note(f"{skipped} more files not returned: at most {max_files} per call")

    def _walk(self) -> list[tuple[str, os.stat_result]]:
        """Everything but folders, as lstat sees it (links are not followed)."""
        found: list[tuple[str, os.stat_result]] = []
        pending = [("", 0)]
        seen = 0
        while pending:
            folder, depth = pending.pop()
            try:
                entries = sorted(os.scandir(os.path.join(self._root, folder)), key=_name)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    return found
                relative = f"{folder}/{entry.name}" if folder else entry.name
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    if depth + 1 < MAX_DEPTH:
                        pending.append((relative, depth + 1))
                else:
                    found.append((relative, info))
        return found

    def _read(self, relative: str) -> bytes | None:
        """The file's bytes; None unless it is still a regular file (never follows a
        link, never blocks on a FIFO)."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(os.path.join(self._root, relative), flags)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _mime(relative: str, data: bytes) -> str:
    import mimetypes  # only calls that write files pay for it

    guessed, _ = mimetypes.guess_type(relative, strict=False)
    if guessed:
        return guessed
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def artifact_line(cell: int, relative: str, mime: str, data: bytes) -> bytes:
    """The `artifact` frame, built around the base64 without copying it through json."""
    head = json.dumps(
        {"type": "artifact", "id": cell, "path": relative, "mimeType": mime},
        ensure_ascii=True,
        separators=(",", ":"),
    )[:-1]
    return head.encode("ascii") + b',"data":"' + base64.b64encode(data) + b'"}\n'
