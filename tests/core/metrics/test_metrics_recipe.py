"""Auto recipes: the right ops, in the right order, for each kind of degradation."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.metrics import synthetic as syn
from app.core.metrics.analysis import analyze_array
from app.core.metrics.recipe_auto import format_recipe, plan_recipe, propose_recipe


def models(op_id: str) -> bool:  # every model op trained and available
    return True


def no_models(op_id: str) -> bool:  # nothing trained: classical fallbacks
    return False


def ops(recipe) -> list[str]:
    return [op for op, _ in recipe]


def test_clean_photo_needs_nothing(val_photo):
    a = analyze_array(val_photo)
    assert propose_recipe(a, available=models) == []
    assert propose_recipe(a, available=no_models) == []
    assert "nothing" in format_recipe(plan_recipe(a, available=models))


def test_noisy_photo_gets_denoise(val_photo):
    a = analyze_array(syn.add_gaussian_noise(val_photo, 20 / 255, np.random.default_rng(0)))
    assert ops(propose_recipe(a, available=models)) == ["denoise"]
    (op, params), = propose_recipe(a, available=no_models)
    assert op == "nlm_denoise"
    # Strength from the per-pixel noise including its blotchy part (>= the decision figure).
    assert params["strength"] == pytest.approx(0.6 * max(a.noise.sigma255, a.noise.coarse255), abs=0.1)
    assert a.noise.coarse255 >= 0.9 * a.noise.sigma255


def test_dark_photo_gets_lowlight_first_and_no_extra_denoise(val_photo):
    dark = syn.underexpose(val_photo, 1 / 24)
    dark = syn.add_gaussian_noise(dark, 3 / 255, np.random.default_rng(1))
    a = analyze_array(dark)
    recipe = propose_recipe(a, available=models)
    # KinD restores the (noisy) reflectance itself: no denoiser after it.
    assert ops(recipe) == ["lowlight"]
    # The op's own automatic ratio (fitted on the illumination map) decides the gain, not the analysis.
    assert recipe[0][1] == {"auto_ratio": True}
    # Classical: brighten, then NLM for the noise the gain amplified.
    assert ops(propose_recipe(a, available=no_models)) == ["exposure", "nlm_denoise"]


def test_blurred_photo_gets_deblur_last(val_photo):
    blurred = syn.gaussian_blur(val_photo, 2.5)
    assert ops(propose_recipe(analyze_array(blurred), available=models)) == ["deblur"]
    noisy_blurred = syn.add_gaussian_noise(blurred, 15 / 255, np.random.default_rng(2))
    assert ops(propose_recipe(analyze_array(noisy_blurred), available=models)) == ["denoise", "deblur"]
    steps = propose_recipe(analyze_array(noisy_blurred), available=no_models)
    assert ops(steps) == ["nlm_denoise", "unsharp"]
    assert steps[1][1]["radius"] == pytest.approx(analyze_array(noisy_blurred).blur.sigma, abs=0.6)


def test_motion_blur_is_named(val_photo):
    plan = plan_recipe(analyze_array(syn.motion_blur(val_photo, 17, 0)), available=models)
    assert [s.op_id for s in plan] == ["deblur"] and "motion" in plan[0].reason


def test_params_fit_the_registered_op(val_photo):
    # With the real registry: nlm_denoise exists, its strength is clamped to the op's declared range.
    a = analyze_array(syn.add_gaussian_noise(val_photo, 80 / 255, np.random.default_rng(3)))
    from app.core.workflow.auto import fit_params

    (op, params), = propose_recipe(a, available=no_models, fit=fit_params)
    from app.core.ops.base import make_params, param_specs
    from app.core.ops.registry import get_op

    spec = {s.name: s for s in param_specs(get_op(op).Params)}["strength"]
    assert params["strength"] <= spec.max
    make_params(get_op(op).Params, params)  # loads without error
