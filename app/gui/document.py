"""The open photo: what was loaded, at which resolution, and the core calls that load it.

Opening runs in two background jobs so the photo appears fast:

1. :func:`load_quick` -- ``load_preview`` (embedded RAW thumbnail or a quick development),
   shown at once;
2. :func:`load_full` -- the full decode (a RAW stays a Bayer mosaic for the pipeline), its
   development for display, and the ~2-MP preview source the interactive renders use.

Both are plain functions of a ``RunContext`` (no widgets), run by a :class:`~app.gui.workers.Worker`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.core.context import RunContext
from app.core.image import ColorSpace, Image, Metadata
from app.core.pipeline import Pipeline, StageCache
from app.gui.imaging import Pyramid, downscale, pyramid_from_image

#: long side of the interactive preview source (about 2 MP for a 3:2 photo).
PREVIEW_SIDE = 1800
#: long side of the quick first look.
QUICK_SIDE = 1600


@dataclass
class QuickLoad:
    """Result of :func:`load_quick`."""

    path: str
    image: Image
    pyramid: Pyramid
    meta: Metadata
    seconds: float = 0.0


@dataclass
class FullLoad:
    """Result of :func:`load_full`."""

    path: str
    source: Image  # as decoded: a BAYER mosaic for RAW, sRGB otherwise (export runs from this)
    developed: Image  # full-resolution sRGB (1:1 detail renders crop this)
    preview: Image  # downscaled developed image: the interactive preview source
    pyramid: Pyramid  # display pyramid of ``developed``
    preview_pyramid: Pyramid  # display pyramid of ``preview`` in full-photo coordinates
    seconds: float = 0.0


@dataclass
class Document:
    """Everything the window knows about the open photo."""

    path: str
    quick: QuickLoad | None = None
    full: FullLoad | None = None
    meta: Metadata = field(default_factory=Metadata)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def key(self) -> str:
        """Cache key of the photo file (path + size + mtime)."""
        try:
            st = os.stat(self.path)
            return f"{Path(self.path).resolve()}|{st.st_size}|{st.st_mtime_ns}"
        except OSError:
            return str(self.path)

    @property
    def full_size(self) -> tuple[int, int] | None:
        """(width, height) of the full-resolution photo once decoded."""
        if self.full is not None:
            return self.full.developed.width, self.full.developed.height
        return None

    def preview_source(self) -> tuple[Image, str] | None:
        """The image interactive renders start from, and its cache key."""
        if self.full is not None:
            img = self.full.preview
            return img, f"{self.key}|preview|{img.width}x{img.height}"
        if self.quick is not None:
            img = self.quick.image
            return img, f"{self.key}|quick|{img.width}x{img.height}"
        return None

    def before_pyramids(self) -> list[Pyramid]:
        if self.full is not None:
            return [self.full.pyramid]
        return [self.quick.pyramid] if self.quick is not None else []


def _developed(image: Image, ctx: RunContext) -> Image:
    if image.space is ColorSpace.SRGB:
        return image
    # A pipeline with no steps inserts the RAW development (and converts linear data).
    return Pipeline(StageCache(0)).run(image, [], ctx, use_cache=False)


def load_quick(path: str, ctx: RunContext) -> QuickLoad:
    """Fast first look at ``path``: embedded thumbnail or quick development, plus metadata."""
    import time

    from app.core.io import load_preview

    t0 = time.perf_counter()
    ctx.progress(0.0, f"Opening {Path(path).name}")
    image = load_preview(path, max_side=QUICK_SIDE)
    ctx.check_cancelled()
    image = _developed(image, ctx.sub(0.5, 0.9))
    meta = image.meta
    if not meta.summary():
        try:
            from app.core.io import read_metadata

            meta = read_metadata(path)
        except Exception:  # noqa: BLE001 - metadata is a nicety; the full decode reports real errors
            pass
    pyramid = pyramid_from_image(image)
    ctx.progress(1.0, "preview ready")
    return QuickLoad(path, image, pyramid, meta, time.perf_counter() - t0)


def load_full(path: str, ctx: RunContext) -> FullLoad:
    """Full decode + development for display + the interactive preview source."""
    import time

    from app.core.io import load_image

    t0 = time.perf_counter()
    ctx.progress(0.0, f"Decoding {Path(path).name}")
    source = load_image(path, raw_as="bayer")
    ctx.check_cancelled()
    ctx.progress(0.4, "Developing")
    developed = _developed(source, ctx.sub(0.4, 0.8))
    ctx.check_cancelled()
    ctx.progress(0.8, "Building display")
    preview = downscale(developed, PREVIEW_SIDE)
    scale = preview.width / developed.width
    pyramid = pyramid_from_image(developed)
    preview_pyramid = pyramid_from_image(preview, ref_scale=scale)
    ctx.progress(1.0, "decoded")
    return FullLoad(path, source, developed, preview, pyramid, preview_pyramid, time.perf_counter() - t0)
