"""Rendering a recipe: the same pipeline for the preview, the 1:1 detail and the full-size export."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.pipeline import Pipeline, StageCache, Step


def render(source: Image, steps: Sequence[Step], ctx: RunContext | None = None, *,
           pipeline: Pipeline | None = None, source_key: str | None = None, develop: bool = True) -> Image:
    """Run ``steps`` on ``source`` (a preview source, a detail crop or the full image) -> sRGB.

    A RAW mosaic is developed where the recipe needs sRGB (after the RAW ops). With ``pipeline`` (and a
    ``source_key``) earlier stages come from its cache; without one nothing is cached. ``develop=False``
    (DNG export) returns the processed mosaic when every op works on it.
    """
    if pipeline is None:
        return Pipeline(StageCache(0)).run(source, list(steps), ctx, use_cache=False, develop=develop)
    return pipeline.run(source, list(steps), ctx, source_key=source_key, develop=develop)


def developed(image: Image, ctx: RunContext | None = None) -> Image:
    """``image`` as sRGB with no op applied (a RAW developed like the export develops it)."""
    if image.space is ColorSpace.SRGB:
        return image
    return render(image, [], ctx)


def render_full(source: Image, steps: Sequence[Step], ctx: RunContext | None = None, *,
                develop: bool = True) -> Image:  # fmt: skip
    """The export's rendering: full resolution, no interactive cache (a 24-MP intermediate would only
    evict the preview's stages); ops tile themselves."""
    return render(source, steps, ctx, develop=develop)
