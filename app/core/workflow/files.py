"""Which files the app opens, and opening one: the one RAW policy shared by the GUI, the CLI and batch.

A RAW file with a Bayer mosaic opens as that mosaic (``ColorSpace.BAYER``) so RAW-domain ops can run
before development; a RAW without one (a linear DNG, a Foveon or X-Trans file LibRaw can only develop)
opens developed, in the GUI as in the CLI (``raw_as="auto"``). Every other supported file opens as sRGB.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.core.image import Image
from app.core.io.formats import RASTER_EXTENSIONS, RAW_EXTENSIONS, SUPPORTED_EXTENSIONS

#: how a RAW file opens (see the module docstring); io.load_image's choices are "bayer", "srgb", "auto".
RAW_POLICY = "auto"

__all__ = ["RASTER_EXTENSIONS", "RAW_EXTENSIONS", "RAW_POLICY", "SUPPORTED_EXTENSIONS", "is_photo",
           "open_photo", "open_quick", "photos_in"]


def is_photo(path: str | os.PathLike[str]) -> bool:
    """A visible regular file whose extension the app opens (content is checked when it is opened)."""
    p = Path(path)
    return p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith(".")


def photos_in(folder: str | os.PathLike[str]) -> list[Path]:
    """Photos directly inside ``folder``, sorted by name (case-insensitive)."""
    return sorted((p for p in Path(folder).iterdir() if is_photo(p)), key=lambda p: p.name.lower())


def open_photo(path: str | os.PathLike[str]) -> Image:
    """Decode ``path`` at full resolution for processing (RAW: the mosaic when there is one).

    Raises:
        app.core.io.ImageIOError: a clear one-line reason naming the file.
    """
    from app.core.io import load_image

    return load_image(path, raw_as=RAW_POLICY)


def open_quick(path: str | os.PathLike[str], max_side: int) -> Image:
    """A fast first look: a RAW's embedded thumbnail or quick development, other files downscaled."""
    from app.core.io import load_preview

    return load_preview(path, max_side=max_side)
