"""Errors raised by image I/O: one clear line that names the file, never a raw traceback.

Every message has the form ``"<file name>: <what is wrong>"`` so the CLI can print ``str(exc)`` and the
GUI can show it in a dialog as is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


class ImageIOError(Exception):
    """Base class for everything :mod:`app.core.io` raises about a file.

    Args:
        path: the file concerned (only its name appears in the message); may be None.
        reason: what went wrong, one line, no trailing full stop.
    """

    def __init__(self, path: str | os.PathLike[str] | None, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.reason = reason
        name = Path(self.path).name if self.path else ""
        super().__init__(f"{name}: {reason}" if name else reason)


class DecodeError(ImageIOError):
    """The file could not be read or decoded (missing, empty, truncated, corrupt, too large)."""


class UnsupportedFormatError(ImageIOError):
    """The file is readable but holds something we do not handle (unknown format, X-Trans, GPR...)."""


class NotBayerError(UnsupportedFormatError):
    """A RAW file that holds no Bayer mosaic (linear DNG, RGB scan); ``raw_as="srgb"`` opens it developed."""


class ExportError(ImageIOError):
    """Writing an output failed or was refused (would overwrite an input, exists, disk error...)."""


_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def describe(exc: BaseException, limit: int = 160) -> str:
    """One clean line for an unexpected library exception: bytes decoded, object reprs and newlines gone.

    ``LibRawIOError(b'Input/output error')`` -> ``Input/output error``; Pillow's ``cannot identify image
    file <_io.BytesIO object at 0x7f...>`` -> ``cannot identify image file``.
    """
    arg = exc.args[0] if len(exc.args) == 1 else None
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(exc)
    text = " ".join(_OBJECT_REPR.sub("", text).split()).strip(" :")
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text or type(exc).__name__
