"""Ordered ops with a per-stage cache (see engine.py) and recipes (recipe.py)."""

from app.core.pipeline.cache import StageCache
from app.core.pipeline.engine import OpUnavailableError, Pipeline, image_key
from app.core.pipeline.recipe import Recipe, RecipeError, Step, parse_op_arg

__all__ = ["OpUnavailableError", "Pipeline", "Recipe", "RecipeError", "StageCache", "Step", "image_key",
           "parse_op_arg"]
