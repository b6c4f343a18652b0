"""What ``bench/acceptance.py`` runs: the ops with default params, Auto, and the photo sets.

* ``run_method(name, x)``: ``denoise`` / ``deblur`` / ``lowlight`` with their default parameters, or
  ``auto`` (``auto_plan`` -> its recipe, every step, nothing dropped), on an sRGB float array. Auto's
  output is reused from an op's when its recipe is exactly that op with default params.
* ``no_harm_sets(side, limit)``: the clean validation photos of every clean source, and the wallpaper
  photos (all of them; the ones in the training split are named so), centre-cropped to ``side``.
"""

from __future__ import annotations

import numpy as np
from quality_data import centre_crop, read_srgb
from quality_ours import run_op

OPS = ("denoise", "deblur", "lowlight")
#: the ops each help-where-claimed task is for
TASK_OPS = {"denoise-srgb": ("denoise",), "denoise-raw": ("denoise",), "denoise-phone": ("denoise",),
            "lowlight": ("lowlight",),
            "deblur": ("deblur",), "deblur-shake": ("deblur",)}


def op_available(op_id: str) -> str:
    """'' when the op can run with default params, else why not."""
    try:
        from app.core.ops.registry import get_op

        ok, why = get_op(op_id).availability()
        return "" if ok else why
    except Exception as exc:  # noqa: BLE001 - shown in the table
        return f"{type(exc).__name__}: {exc}"


def auto_recipe(x: np.ndarray) -> list[tuple[str, dict]]:
    from app.core.workflow.auto import plan_auto as auto_plan

    return auto_plan(x).recipe()


def run_method(name: str, x: np.ndarray, cache: dict[str, np.ndarray] | None = None,
               plan_on: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """``(output, note)``: an op with default params, or ``auto`` (note: the recipe it ran).

    ``plan_on``: the whole photo ``x`` was cropped from; Auto decides on it, as the app does, and
    applies its recipe to ``x``.
    """
    cache = {} if cache is None else cache
    if name != "auto":
        if name not in cache:
            cache[name] = run_op(name, {}, x)
        return cache[name], "defaults"
    recipe = auto_recipe(x if plan_on is None else plan_on)
    note = " > ".join(op for op, _ in recipe) or "nothing"
    if not recipe:
        return x, note
    if len(recipe) == 1 and recipe[0][0] in cache and not _non_default(*recipe[0]):
        return cache[recipe[0][0]], note
    y = x
    for op_id, params in recipe:
        y = run_op(op_id, params, y)
    return y, note


def _non_default(op_id: str, params: dict) -> bool:
    from app.core.ops.base import make_params
    from app.core.ops.registry import get_op

    P = get_op(op_id).Params
    return make_params(P, params) != make_params(P, {})


def _wallpapers() -> list[tuple[str, object]]:
    from app.train.sources import wallpaper_root
    from app.train.splits import load_splits

    root = wallpaper_root()
    val = {it.key for it in load_splits().items("wallpapers", "val")}
    out = []
    for p in sorted(root.glob("*/*.jpg")):
        key = f"{p.parent.name}/{p.stem}"
        out.append((f"wallpapers/{key}" + ("" if key in val else " (train split)"), p))
    return out


def no_harm_sets(side: int, limit: int | None) -> dict[str, list[tuple[str, object]]]:
    """``{set name: [(photo name, path), ...]}``; an empty list when a set is not on disk."""
    from auto_labelled import clean_photos

    sets = {"clean-val": clean_photos("val"), "wallpapers": _wallpapers()}
    return {k: v[:limit] for k, v in sets.items()}


def load_photo(path, side: int) -> tuple[np.ndarray, np.ndarray]:
    """``(whole photo, centre crop)``: ops are scored on the crop, Auto plans on the whole photo."""
    full = read_srgb(path)
    return full, centre_crop(full, side)
