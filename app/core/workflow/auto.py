"""The Auto recipe as steps: one function for the GUI's Auto button and the CLI's ``--op auto``.

The decision itself is :func:`app.core.metrics.auto.auto_plan` (what the photo needs, judged on its
development); :func:`plan_auto` gives it what only this layer may know, the op registry (which ops can
run, what params they accept: metrics must not import ops, which measure with metrics), and
:func:`auto_recipe` turns the proposal into pipeline :class:`~app.core.pipeline.Step` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.image import Image
from app.core.pipeline import Step

#: ``--op auto`` in a recipe: replaced per file by the recipe Auto proposes.
AUTO = "auto"


@dataclass(frozen=True)
class AutoRecipe:
    """Auto's proposal: the steps, what the analysis found, and one reason per step."""

    steps: list[Step]
    findings: list[str] = field(default_factory=list)
    why: list[tuple[str, str]] = field(default_factory=list)  # (op id, reason) per step

    @property
    def reasons(self) -> list[str]:
        """``"denoise (noise sigma 6.1/255)"``, ... one per step."""
        return [f"{op_id} ({reason})" for op_id, reason in self.why]

    def described(self) -> str:
        """``"Denoise: <reason>; ..."`` with the ops' labels (the GUI's message)."""
        from app.core.ops.registry import get_op

        return "; ".join(f"{get_op(op_id).label}: {reason}" for op_id, reason in self.why)


def op_available(op_id: str) -> bool:
    """Registered and its weights usable (``Op.availability``); a missing or broken op is not proposed."""
    try:
        from app.core.ops.registry import get_op

        return bool(get_op(op_id).availability()[0])
    except Exception:  # noqa: BLE001 - a missing or broken op simply is not proposed
        return False


def fit_params(op_id: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """Keep the params the registered op declares, clamped to their UI range; unregistered: as is."""
    try:
        from app.core.ops.base import param_specs
        from app.core.ops.registry import get_op

        specs = {s.name: s for s in param_specs(get_op(op_id).Params)}
    except Exception:  # noqa: BLE001
        return dict(wanted)
    out = {}
    for k, v in wanted.items():
        spec = specs.get(k)
        if spec is None:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            lo = spec.min if spec.min is not None else -np.inf
            hi = spec.max if spec.max is not None else np.inf
            v = float(np.clip(v, lo, hi))
            v = int(round(v)) if spec.type is int else round(v, 3)
        out[k] = v
    return out


def plan_auto(image: Any, path: str | Path | None = None):
    """:func:`app.core.metrics.auto.auto_plan` with the op registry: the one Auto of the app."""
    from app.core.metrics.auto import auto_plan

    return auto_plan(image, path=path, available=op_available, fit=fit_params)


def auto_recipe(image: Image, plan=None) -> AutoRecipe:
    """Analyse ``image`` as the user sees it and return Auto's steps (empty: nothing to restore).

    ``plan``: :func:`plan_auto`'s result for ``image`` when the caller already has it (the GUI keeps one per
    photo), so the photo is not analysed twice.

    Raises:
        app.core.pipeline.RecipeError: a proposed parameter is out of range (a bug in the planner).
    """
    plan = plan if plan is not None else plan_auto(image)
    steps = [Step.make(p.op_id, **p.params) for p in plan.steps]
    return AutoRecipe(steps, list(plan.findings), [(p.op_id, p.reason) for p in plan.steps])


def expand_auto(steps: Sequence[Step | str], image: Image) -> tuple[list[Step], list[str]]:
    """``steps`` with every :data:`AUTO` replaced by Auto's steps for ``image``; also one line per reason."""
    if AUTO not in steps:
        return list(steps), []  # type: ignore[arg-type]
    auto = auto_recipe(image)
    out: list[Step] = []
    for step in steps:
        out.extend(auto.steps if step == AUTO else [step])  # type: ignore[list-item]
    return out, [f"auto: {r}" for r in auto.reasons] or ["auto: nothing to restore"]
