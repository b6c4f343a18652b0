"""The open photo: what was loaded, at which resolution, and the core calls that load it.

Opening runs in two background jobs so the photo appears fast:

1. :func:`load_quick` -- ``load_preview`` (embedded RAW thumbnail or a quick development),
   shown at once;
2. :func:`load_full` -- the full decode (a RAW stays a Bayer mosaic for the pipeline), its
   development for display, and the preview source the interactive renders use: for a RAW a reduced
   mosaic that runs the same RAW ops and development as the export (:mod:`app.core.workflow.preview`).

Both are plain functions of a ``RunContext`` (no widgets) calling :mod:`app.core.workflow`, run by a
:class:`~app.gui.workers.Worker`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core import workflow
from app.core.context import RunContext
from app.core.image import ColorSpace, Image, Metadata
from app.core.pipeline import Step
from app.core.workflow.auto import plan_auto
from app.core.workflow.preview import downscale
from app.gui.imaging import Pyramid, pyramid_from_image

if TYPE_CHECKING:
    from app.core.metrics.analysis import Analysis  # start-up: scipy comes with it
    from app.core.metrics.auto import AutoPlan

#: long side of the interactive preview (about 2 MP for a 3:2 photo).
PREVIEW_SIDE = 1800
#: long side of a RAW's preview: the RAW denoiser runs on it at every change, so it is the size of the
#: photo fitted in the window, not more (bench/raw_preview.py); zooming in renders the 1:1 detail.
RAW_PREVIEW_SIDE = 1200
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
    source: Image  # as decoded: a BAYER mosaic for RAW, sRGB otherwise (export and 1:1 details run from this)
    developed: Image  # full-resolution sRGB (the "before" view)
    preview: Image  # downscaled developed image (before-side of the preview, quality reference)
    render_source: Image  # what previews render from: ``preview`` or, for a RAW, a reduced mosaic
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
    #: Auto's plan of the whole photo at full size (as ``analyze`` sees it), measured once: see :meth:`whole_plan`
    plan: AutoPlan | None = None

    def whole_plan(self) -> AutoPlan | None:
        """Auto's plan of the decoded photo (None before it is decoded), measured on first use and kept: its
        analysis is the quality panel's verdict, its steps the Auto button's recipe (the same photo, once)."""
        if self.full is not None and self.plan is None:
            self.plan = plan_auto(self.full.source)
        return self.plan

    @property
    def analysis(self) -> Analysis | None:
        """The whole photo's analysis, once :meth:`whole_plan` has run."""
        return self.plan.analysis if self.plan is not None else None

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

    def preview_source(self, steps: Sequence[Step] = ()) -> tuple[Image, str] | None:
        """The image interactive renders of ``steps`` start from, and its cache key.

        A RAW's reduced mosaic only when the recipe starts with a RAW-domain op; otherwise the scaled-down
        development, as the export starts from the full one (with no op: exactly the Before side).
        """
        if self.full is not None:
            f = self.full
            on_mosaic = f.render_source is f.preview or workflow.starts_on_mosaic(f.render_source, steps)
            img, tag = (f.render_source, "preview") if on_mosaic else (f.preview, "developed")
            return img, f"{self.key}|{tag}|{img.width}x{img.height}"
        if self.quick is not None:
            img = self.quick.image
            return img, f"{self.key}|quick|{img.width}x{img.height}"
        return None

    def before_pyramids(self) -> list[Pyramid]:
        if self.full is not None:
            return [self.full.pyramid]
        return [self.quick.pyramid] if self.quick is not None else []


def load_quick(path: str, ctx: RunContext) -> QuickLoad:
    """Fast first look at ``path``: embedded thumbnail or quick development, plus metadata."""
    import time

    t0 = time.perf_counter()
    ctx.progress(0.0, f"Opening {Path(path).name}")
    image = workflow.open_quick(path, QUICK_SIDE)
    ctx.check_cancelled()
    image = workflow.developed(image, ctx.sub(0.5, 0.9))
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

    t0 = time.perf_counter()
    ctx.progress(0.0, f"Decoding {Path(path).name}")
    source = workflow.open_photo(path)
    ctx.check_cancelled()
    ctx.progress(0.4, "Developing")
    developed = workflow.developed(source, ctx.sub(0.4, 0.8))
    ctx.check_cancelled()
    ctx.progress(0.8, "Building display")
    is_raw = source.space is ColorSpace.BAYER
    if is_raw:
        workflow.fit_development(source, developed)  # the preview's development matches this one
    preview = downscale(developed, RAW_PREVIEW_SIDE if is_raw else PREVIEW_SIDE)
    render_source = workflow.preview_source(source, RAW_PREVIEW_SIDE) if is_raw else preview
    scale = preview.width / developed.width
    pyramid = pyramid_from_image(developed)
    preview_pyramid = pyramid_from_image(preview, ref_scale=scale)
    ctx.progress(1.0, "decoded")
    return FullLoad(path, source, developed, preview, render_source, pyramid, preview_pyramid,
                    time.perf_counter() - t0)
