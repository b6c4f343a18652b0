"""Auto, in one call: what the photo needs, judged on what the user sees.

:func:`auto_plan` is the decision that ``photorestore analyze``, ``photorestore run --op auto`` and the
GUI's *Auto* button share (through :func:`app.core.workflow.auto.plan_auto`, which adds what the op
registry knows), so the three can never disagree about a photo. It analyses the image
as shown (:func:`~app.core.metrics.analysis.analyze_image`: a RAW is developed first), adds the JPEG
quality read from the file's tables when the path is known, and turns the findings into a recipe
(:func:`~app.core.metrics.recipe_auto.plan_recipe`). How well the findings match labelled photos:
``bench/auto_confusion.py`` (table in ``docs/auto.md``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.metrics.analysis import Analysis, analyze_image
from app.core.metrics.recipe_auto import RecipeStep, plan_recipe


@dataclass(frozen=True)
class AutoPlan:
    """The analysis of a photo and the recipe Auto proposes for it (empty: nothing to do)."""

    analysis: Analysis
    steps: tuple[RecipeStep, ...]

    @property
    def findings(self) -> list[str]:
        return self.analysis.findings()

    def recipe(self) -> list[tuple[str, dict[str, Any]]]:
        """``[(op_id, params), ...]`` in run order."""
        return [(s.op_id, dict(s.params)) for s in self.steps]


def auto_plan(image: Any, *, path: str | Path | None = None,
              available: Callable[[str], bool] | None = None,
              fit: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> AutoPlan:
    """Analyse ``image`` as the user sees it and propose the Auto recipe.

    Args:
        image: an :class:`app.core.image.Image` in any colour space (a RAW mosaic is developed as the
            app develops it) or a float sRGB ``(H, W, 3)`` array.
        path: the file it came from; a JPEG's quantisation tables then give its quality.
        available, fit: which ops can run and what params they accept (see
            :func:`~app.core.metrics.recipe_auto.plan_recipe`); the app passes the op registry's
            through :func:`app.core.workflow.auto.plan_auto`, the one entry point its callers use.

    Returns:
        :class:`AutoPlan`.
    """
    from app.core.metrics.prior import blur_probability

    a = analyze_image(image, blur_prior=blur_probability)
    src = path or getattr(getattr(image, "meta", None), "source_path", None)
    if src:
        from app.core.metrics.jpeg_quality import jpeg_quality_from_file

        q = jpeg_quality_from_file(src)
        if q is not None:
            a = dataclasses.replace(a, jpeg=dataclasses.replace(a.jpeg, quality=q))
    return AutoPlan(a, tuple(plan_recipe(a, available=available, fit=fit)))
