"""The Auto recipe as steps: one function for the GUI's Auto button and the CLI's ``--op auto``.

The decision itself is :func:`app.core.metrics.auto.auto_plan` (what the photo needs, judged on its
development); this turns its proposal into pipeline :class:`~app.core.pipeline.Step` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


def auto_recipe(image: Image) -> AutoRecipe:
    """Analyse ``image`` as the user sees it and return Auto's steps (empty: nothing to restore).

    Raises:
        app.core.pipeline.RecipeError: a proposed parameter is out of range (a bug in the planner).
    """
    from app.core.metrics.auto import auto_plan

    plan = auto_plan(image)
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
