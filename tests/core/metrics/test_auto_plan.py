"""``auto_plan``: the one Auto that ``analyze``, ``run --op auto`` and the GUI share (issue 20)."""

from __future__ import annotations

import numpy as np

from app.core.metrics import synthetic as syn
from app.core.metrics.analysis import analyze_array
from app.core.metrics.auto import AutoPlan, auto_plan
from app.core.metrics.recipe_auto import plan_recipe


def test_plan_of_an_array_is_the_analysis_recipe(val_photo):
    noisy = syn.add_gaussian_noise(val_photo, 20 / 255, np.random.default_rng(0))
    plan = auto_plan(noisy, available=lambda op: True)
    assert [s.op_id for s in plan.steps] == [s.op_id for s in plan_recipe(analyze_array(noisy),
                                                                           available=lambda op: True)]
    assert plan.recipe()[0][0] == "denoise" and plan.findings


def test_cli_and_analyze_both_call_auto_plan(monkeypatch, val_photo):
    import app.core.metrics.auto as auto_mod
    from app.core.metrics import compare
    from app.core.workflow.auto import AUTO, expand_auto  # what `run`'s per-photo function (batch.run_job) calls

    calls = []
    real = auto_mod.auto_plan

    def spy(image, **kw):
        calls.append(kw)
        return real(image, **kw)

    monkeypatch.setattr(auto_mod, "auto_plan", spy)
    expand_auto([AUTO], val_photo)
    compare.analyze(val_photo)
    assert len(calls) == 2


def test_plan_type(val_photo):
    from app.core.workflow.auto import plan_auto

    plan = plan_auto(val_photo)
    assert isinstance(plan, AutoPlan) and plan.steps == ()


def test_brightening_rule_leaves_dim_photos_alone(val_photo):
    # A photo 2 stops under (evening, indoor, low key) is a plausible exposure: no low light; a
    # 6-stop under-exposure (SICE's darkest frames) is.
    dim = syn.underexpose(val_photo, 1 / 4)
    assert not auto_plan(dim).analysis.is_dark
    assert "lowlight" not in [s.op_id for s in auto_plan(dim, available=lambda op: True).steps]
    dark = syn.underexpose(val_photo, 1 / 64)
    assert auto_plan(dark).analysis.is_dark
    assert auto_plan(dark).analysis.primary_class == "dark"


def test_sharp_photo_is_not_blurred_and_shake_is(val_photos):
    for photo in val_photos:
        a = auto_plan(photo).analysis
        assert not a.is_blurred, a.blur
    shaken = syn.motion_blur(val_photos[0], 9, 0)  # edge sigma 0.93 px: found by its direction alone
    assert auto_plan(shaken).analysis.primary_class == "blurred"
