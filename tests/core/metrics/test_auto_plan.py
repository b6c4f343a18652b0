"""``auto_plan``: the one Auto that ``analyze``, ``run --op auto`` and the GUI share (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest

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


def _polyu_full(datasets_dir, name: str) -> np.ndarray:
    import cv2

    path = datasets_dir / "noise" / "polyu" / "fullres" / name
    if not path.exists():
        pytest.skip(f"{name} not available")
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    h, w = img.shape[:2]
    return img[(h - 1024) // 2:(h - 1024) // 2 + 1024, (w - 2048) // 2:(w - 2048) // 2 + 2048]


def test_large_photo_sharp_somewhere_is_not_blurred(datasets_dir):
    import cv2

    from app.core.metrics.analysis import blur_windows

    # a real camera photo with a shallow depth of field (PolyU's 500-shot mean of a chair), 2048 x 1024:
    # two blur windows, the left one in focus (edge sigma ~0.6 px), the right one soft (~2 px)
    photo = _polyu_full(datasets_dir, "Canon5D2_chair_mean.JPG")
    assert len(blur_windows(photo.shape)) == 2
    assert not auto_plan(photo).analysis.is_blurred
    # a softer background still leaves the photo in focus where it matters
    soft = photo.copy()
    soft[:, 1024:] = cv2.GaussianBlur(photo[:, 1024:], (0, 0), 3.0)
    assert not auto_plan(soft).analysis.is_blurred
    # blur over the whole frame (a moving camera) is found in every window
    blurred = cv2.GaussianBlur(photo, (0, 0), 3.0)
    a = auto_plan(blurred).analysis
    assert a.is_blurred and a.blur.sigma > 2.0, a.blur


def test_the_degradation_prior_decides_only_mild_edges_without_block_history(val_photo):
    import dataclasses

    from app.core.metrics.analysis import BLOCKY_RATIO, PRIOR_BLUR, PRIOR_BLUR_SIGMA_PX, blur_windows

    seen = []

    def prior(window):
        seen.append(window.shape)
        return 0.9

    a = analyze_array(val_photo, blur_prior=prior)
    assert seen == [val_photo.shape] and a.blur.prior == 0.9  # one window: the photo (a crop) itself
    mild = dataclasses.replace(a, blur=dataclasses.replace(a.blur, sigma=PRIOR_BLUR_SIGMA_PX + 0.05,
                                                           motion_length=0.0),
                               jpeg=dataclasses.replace(a.jpeg, blockiness=1.0),
                               noise=dataclasses.replace(a.noise, method=0.5 / 255))
    assert mild.is_blurred and "degradation prior" in " ".join(mild.findings())
    # grain (a noisy camera JPEG's): the prior learnt blur on noise-free crops, so it does not decide there
    assert not dataclasses.replace(mild, noise=dataclasses.replace(mild.noise, method=1.5 / 255)).is_blurred
    assert not dataclasses.replace(mild, blur=dataclasses.replace(mild.blur, prior=PRIOR_BLUR - 0.05)).is_blurred
    assert not dataclasses.replace(mild, blur=dataclasses.replace(mild.blur, sigma=PRIOR_BLUR_SIGMA_PX - 0.1)
                                   ).is_blurred  # sharp edges: the prior alone never calls a photo blurred
    assert not dataclasses.replace(mild, jpeg=dataclasses.replace(mild.jpeg, blockiness=BLOCKY_RATIO)).is_blurred
    assert not dataclasses.replace(mild, blur=dataclasses.replace(mild.blur, prior=float("nan"))).is_blurred
    # a large photo: the prior sees the window the blur figures come from
    big = np.tile(val_photo, (7, 7, 1))[:2100, :2100]
    seen.clear()
    analyze_array(big, blur_prior=prior)
    assert len(blur_windows(big.shape)) > 1 and seen == [(1024, 1024, 3)]
