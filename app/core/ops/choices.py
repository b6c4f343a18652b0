"""Which choices of an op's parameters cannot run, in plain words (for greyed-out combo entries).

A choice such as denoise ``model=full`` or deblur ``model=quality`` selects a model; when that model is
untrained, missing or damaged, the panels show the choice disabled with the reason instead of letting
the user pick it and then showing an error.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.core.ops.base import Op, param_specs

#: Model states as a user reads them (the registry's own messages are written for developers).
PLAIN_REASONS = {"untrained": "not trained yet", "missing": "not installed", "corrupt": "model file damaged"}


def _state(model_id: str) -> str:
    from app.core.models.registry import model_state  # late: keeps the op imports light

    return model_state(model_id).name


def unavailable_choices(op: Op, params: Any | None = None) -> dict[str, dict[str, str]]:
    """``{param name: {choice: plain reason}}`` for the choices that would make ``op`` unavailable.

    Only models that the choice itself brings in count: a refiner that every choice needs makes the whole
    op unavailable (the op card says so), not one entry of the combo.
    """
    p = params if params is not None else op.Params()
    out: dict[str, dict[str, str]] = {}
    for spec in param_specs(op.Params):
        if spec.type is not str or len(spec.choices) < 2:
            continue
        variants = {c: dataclasses.replace(p, **{spec.name: c}) for c in spec.choices}
        ids = {c: list(op.model_ids(v)) for c, v in variants.items()}
        if not any(ids.values()):
            continue
        common = set.intersection(*(set(v) for v in ids.values()))
        bad: dict[str, str] = {}
        for c, v in variants.items():
            own = [m for m in ids[c] if m not in common and _state(m) != "verified"]
            if own and not op.availability(v)[0]:
                bad[c] = PLAIN_REASONS.get(_state(own[0]), "unavailable")
        if bad:
            out[spec.name] = bad
    return out


def plain_unavailable_reason(op: Op, params: Any | None = None) -> str | None:
    """"not trained yet" (or another plain reason) when a model of ``op`` with ``params`` cannot run, else None.

    The registry's own message (which names the training command) stays available for tooltips and logs.
    """
    p = params if params is not None else op.Params()
    for mid in op.model_ids(p):
        state = _state(mid)
        if state != "verified":
            return PLAIN_REASONS.get(state, "unavailable")
    return None
