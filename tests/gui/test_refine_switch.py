"""The ``refine`` switch on an op card: greyed out with the reason while its refiner is not trained, and it
never locks the card (a step saved with refine on can still be switched back)."""

from __future__ import annotations

import dataclasses

from app.core.ops import get_op
from app.core.pipeline import Step
from app.gui.panels.op_card import OpCard


class _Op:
    """A real op's params and availability rules, with the refiner's state chosen by the test."""

    def __init__(self, refiner_ok: bool) -> None:
        real = get_op("denoise")
        self.real, self.refiner_ok = real, refiner_ok
        self.id, self.label, self.description, self.Params = real.id, real.label, real.description, real.Params
        self.cost_s_per_mp = real.cost_s_per_mp

    def availability(self, params=None):
        params = params if params is not None else self.Params()
        if params.refine and not self.refiner_ok:
            return False, "model ptg_refine_denoise: no trained weights yet"
        return True, ""


def test_untrained_refiner_greys_the_switch_but_not_the_card(qtbot):
    card = OpCard(_Op(refiner_ok=False))
    qtbot.addWidget(card)
    refine = card.controls["refine"]
    assert card.body.isEnabled() and not refine.isEnabled()
    assert "ptg_refine_denoise" in refine.toolTip()
    on = dataclasses.replace(card.op.Params(), refine=True)  # e.g. a recipe saved where it was trained
    card.update_from(Step("denoise", on))
    assert card.reason.isVisibleTo(card) and "ptg_refine_denoise" in card.reason.text()
    assert card.body.isEnabled() and refine.isEnabled()  # so it can be turned off again
    card.update_from(Step("denoise", dataclasses.replace(on, refine=False)))
    assert not card.reason.isVisibleTo(card) and not refine.isEnabled()


def test_trained_refiner_enables_the_switch(qtbot):
    card = OpCard(_Op(refiner_ok=True))
    qtbot.addWidget(card)
    assert card.controls["refine"].isEnabled() and card.controls["refine"].toolTip() == ""
