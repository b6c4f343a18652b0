"""Image I/O: decode (RAW via rawpy, rasters via OpenCV/Pillow/tifffile), metadata, colour, export.

Public API::

    load_image(path, *, raw_as="bayer") -> Image      # full decode (RAW: normalised RGGB mosaic)
    load_preview(path, max_side=1600) -> Image        # fast downscaled sRGB look
    read_metadata(path) -> Metadata                   # no pixel decode
    develop(image) -> Image                           # BAYER (maybe modified) -> sRGB via LibRaw
    save_image(image, path, *, format=None, quality=92, overwrite=False,
               keep_metadata=True, protect=()) -> Path  # atomic, never over an input

Errors are :class:`ImageIOError` subclasses whose ``str()`` is one line naming the file.
"""

from app.core.io.develop import DEVELOP_SETTINGS, develop
from app.core.io.errors import (
    DecodeError,
    ExportError,
    ImageIOError,
    NotBayerError,
    UnsupportedFormatError,
)
from app.core.io.export import EXPORT_FORMATS, save_image
from app.core.io.formats import MAX_PIXELS, RAW_EXTENSIONS, SUPPORTED_EXTENSIONS
from app.core.io.loader import load_image, load_preview, read_metadata

__all__ = [
    "DEVELOP_SETTINGS",
    "EXPORT_FORMATS",
    "MAX_PIXELS",
    "RAW_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "DecodeError",
    "ExportError",
    "ImageIOError",
    "NotBayerError",
    "UnsupportedFormatError",
    "develop",
    "load_image",
    "load_preview",
    "read_metadata",
    "save_image",
]
