"""The ``lowlight`` op's plumbing with the real KinD nets at seeded random weights (no trained weights).

The three nets are built by the catalog's builders and exported to a temporary models directory, so the
registry verifies them exactly as it would the shipped ones. Random weights say nothing about quality
(that is ``test_lowlight_shipped.py``); these tests check stages, caching, tiling, fusion and errors.
"""

from __future__ import annotations

import dataclasses
import threading

import cv2
import numpy as np
import pytest
import torch

from app.core.context import Cancelled, RunContext
from app.core.image import Image
from app.core.models import catalog
from app.core.models.export import export_model
from app.core.models.registry import clear_loaded, load_model, temporary_registry
from app.core.ops import lowlight_stages as st
from app.core.ops.base import make_params
from app.core.ops.lowlight import LowlightOp, LowlightParams
from app.core.ops.registry import get_op
from app.core.pipeline import parse_op_arg
from app.core.pipeline.engine import OpUnavailableError, Pipeline
from app.core.pipeline.recipe import Step

KIND = {d.id: (d, b) for d, b in catalog.MODELS if d.id in st.MODEL_IDS}


def _export(directory, seed: int = 0, ids=st.MODEL_IDS) -> None:
    torch.manual_seed(seed)
    for mid in ids:
        desc, builder = KIND[mid]
        net = builder(**desc.config)
        if mid == st.ADJUSTMENT_ID:  # its head starts at zero (identity): make the ratio matter
            torch.nn.init.normal_(net.head.weight, std=0.3)
        export_model(mid, net, arch=desc.arch, config=desc.config, descriptor=desc, models_dir=directory,
                     card={"licence": "CC0-1.0", "training_data": "none (random weights for tests)",
                           "description": "test weights"})


@pytest.fixture
def kind_models(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path))
    with temporary_registry():
        clear_loaded()
        _export(tmp_path)
        yield tmp_path
    clear_loaded()


@pytest.fixture
def photo() -> Image:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:90, 0:130].astype(np.float32)
    base = 0.08 + 0.06 * np.sin(xx / 9)[..., None] * np.cos(yy / 13)[..., None] * np.array([1.0, 0.8, 0.6])
    return Image((base + rng.normal(0, 0.01, base.shape)).clip(0, 1).astype(np.float32))


def _steps(**params) -> list[Step]:
    return [Step("lowlight", LowlightParams(**params))]


def test_unavailable_without_weights(tmp_path, monkeypatch, photo):
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path))  # empty: nothing exported
    op = get_op("lowlight")
    ok, why = op.availability()
    assert not ok and st.DECOMPOSITION_ID in why
    with pytest.raises(OpUnavailableError, match="unavailable"):
        Pipeline().run(photo, _steps())


def test_unavailable_when_one_net_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path))
    with temporary_registry():
        _export(tmp_path, ids=(st.DECOMPOSITION_ID, st.RESTORATION_ID))
        ok, why = get_op("lowlight").availability()
    assert not ok and st.ADJUSTMENT_ID in why


def test_ratio_change_reruns_only_adjust_and_fuse(kind_models, photo):
    pipe = Pipeline()
    first = pipe.run(photo, _steps(ratio=2.0, auto_ratio=False))
    assert set(pipe.cache.ran()) == {f"lowlight.{s}" for s in ("decompose", "restore", "adjust", "fuse")}
    pipe.cache.reset_counters()
    second = pipe.run(photo, _steps(ratio=4.0, auto_ratio=False))
    assert pipe.cache.ran() == ["lowlight.adjust", "lowlight.fuse"]
    assert pipe.cache.hits["lowlight.restore"] == 1
    assert not np.allclose(first.data, second.data)
    pipe.cache.reset_counters()
    pipe.run(photo, _steps(ratio=4.0, auto_ratio=False, strength=0.5))
    assert pipe.cache.ran() == ["lowlight.fuse"]
    pipe.cache.reset_counters()
    pipe.run(photo, _steps(ratio=4.0, auto_ratio=False, denoise_reflectance=False))
    assert pipe.cache.ran() == ["lowlight.adjust", "lowlight.fuse", "lowlight.restore"]


def test_stages_match_an_independent_computation(kind_models, photo):
    """The fused output recomputed here from the loaded modules' forward passes and the formula."""
    from app.core.color import linear_to_srgb, srgb_to_linear

    params = LowlightParams(ratio=3.0, auto_ratio=False, denoise_reflectance=False)
    out = LowlightOp().run(photo, params, RunContext()).data
    x = torch.from_numpy(photo.data.transpose(2, 0, 1).copy())[None]
    with torch.inference_mode():
        d = load_model(st.DECOMPOSITION_ID, "cpu").module(x)
        adjust = load_model(st.ADJUSTMENT_ID, "cpu").module
        l_adj, l_one = adjust(d[:, 3:], 3.0)[0, 0].numpy(), adjust(d[:, 3:], 1.0)[0, 0].numpy()
    gain = l_adj / np.maximum(l_one, 1e-3)
    w = np.clip(np.minimum(np.log2(gain), params.strength), 0, None)
    y709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
    lin = srgb_to_linear(photo.data)
    ly = lin @ y709
    # luminance: the brightened input's and the restoration's (Y(R) * L' in the sRGB encoding), linear blend
    y_lift = srgb_to_linear(np.clip(linear_to_srgb(ly) * gain, 0, 1))
    y_kind = srgb_to_linear(linear_to_srgb(srgb_to_linear(d[0, :3].permute(1, 2, 0).numpy()) @ y709) * l_adj)
    y = y_lift + w * (y_kind - y_lift)
    # colour: the input's linear chromaticity, smoothed by the weight, at the new luminance
    chroma = lin / np.maximum(ly, 1e-4)[..., None]
    smooth = cv2.GaussianBlur(lin, (0, 0), st.COLOUR_SIGMA) / np.maximum(
        cv2.GaussianBlur(ly, (0, 0), st.COLOUR_SIGMA), 1e-4)[..., None]
    chroma = chroma + w[..., None] * (smooth - chroma)
    want = linear_to_srgb(np.clip(chroma * y[..., None], 0, 1))
    np.testing.assert_allclose(out, want, atol=2e-4)


def test_ratio_one_returns_the_input_and_reports_the_ratio(kind_models, photo):
    out = LowlightOp().run(photo, LowlightParams(ratio=1.0, auto_ratio=False), RunContext())
    np.testing.assert_allclose(out.data, photo.data, atol=1e-4)
    assert out.meta.extra["lowlight"] == {"ratio": 1.0, "auto": False}
    auto = LowlightOp().run(photo, LowlightParams(), RunContext())
    assert auto.meta.extra["lowlight"]["auto"] and auto.meta.extra["lowlight"]["ratio"] >= 1.0
    assert "lowlight" not in photo.meta.extra  # the input's metadata is not touched


def test_strength_zero_is_the_input_times_the_gain_with_its_colour(kind_models, photo):
    """Without the restoration's luminance the output is the input brightened per pixel: same chromaticity."""
    from app.core.color import srgb_to_linear

    ctx = RunContext()
    p = LowlightParams(ratio=2.0, auto_ratio=False)
    state = st.adjust(st.restore(st.decompose(photo, p, ctx), p, ctx), p, ctx)
    plain = st.fuse(state, dataclasses.replace(p, strength=0.0), ctx).data
    gain = state["L_adj"] / state["L_one"]
    # the input's linear chromaticity at the brightened luminance: the sRGB product up to the curve's toe
    np.testing.assert_allclose(plain, np.clip(photo.data * gain[..., None], 0, 1), atol=5e-3)
    restored = st.fuse(state, p, ctx).data
    assert not np.allclose(restored, plain, atol=1e-3)  # with strength the restoration changes the luminance
    lin_in, lin_out = srgb_to_linear(photo.data), srgb_to_linear(plain)
    ratio_in = lin_in / lin_in.sum(axis=2, keepdims=True)
    ratio_out = lin_out / lin_out.sum(axis=2, keepdims=True)
    assert np.abs(ratio_in - ratio_out).max() < 0.02  # the gain keeps each pixel's colour


def test_tiled_run_matches_whole_image(kind_models, photo):
    params = LowlightParams(ratio=2.5, auto_ratio=False)
    whole = LowlightOp().run(photo, params, RunContext()).data
    tiled = LowlightOp().run(photo, params, RunContext(tile=48)).data
    assert np.abs(whole - tiled).max() < 2e-3


def test_auto_ratio_follows_the_illumination(kind_models, photo):
    ctx = RunContext()
    state = st.decompose(photo, None, ctx)
    state = st.restore(state, LowlightParams(), ctx)
    auto = st.adjust(state, LowlightParams(auto_ratio=True), ctx)
    assert auto["ratio"] == pytest.approx(st.auto_ratio(state["L_gmean"]))
    assert st.RATIO_RANGE[0] <= auto["ratio"] <= st.RATIO_RANGE[1]
    assert st.auto_ratio(1e-3) == st.RATIO_RANGE[1] and st.auto_ratio(1.0) <= st.auto_ratio(0.1)


def test_auto_ratio_leaves_a_normal_exposure_alone():
    """1 at and above the key and within a stop below it; monotone and continuous across the knee."""
    key = st.AUTO_KEY
    assert st.auto_ratio(key) == 1.0 and st.auto_ratio(0.95) == 1.0  # bright photos are not darkened
    one_stop = key / 2 ** (st.AUTO_KNEE[0] / st.AUTO_POWER)  # where the fitted rule asks for one stop
    assert st.auto_ratio(one_stop * 1.01) == 1.0
    g = np.geomspace(1e-3, 1.0, 400)
    r = np.array([st.auto_ratio(v) for v in g])
    assert np.all(np.diff(r) <= 1e-9) and r.min() == 1.0 and r.max() == st.RATIO_RANGE[1]
    assert np.abs(np.diff(np.log2(r))).max() < 0.1  # no jump at either knee
    two_stops = key / 2 ** (st.AUTO_KNEE[1] / st.AUTO_POWER)
    assert st.auto_ratio(two_stops / 1.01) == pytest.approx(st.fitted_ratio(two_stops / 1.01))


def test_progress_and_cancellation(kind_models, photo):
    seen: list[float] = []
    ctx = RunContext(lambda f, t: seen.append(f), tile=48)
    LowlightOp().run(photo, LowlightParams(), ctx)
    assert seen and max(seen) == pytest.approx(1.0) and seen == sorted(seen)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        LowlightOp().run(photo, LowlightParams(), RunContext(cancel_event=cancel, tile=48))


def test_alpha_channel_is_kept(kind_models, photo):
    rgba = photo.with_data(np.concatenate([photo.data, np.full(photo.data.shape[:2] + (1,), 0.7, np.float32)], 2))
    out = LowlightOp().run(rgba, LowlightParams(), RunContext()).data
    assert out.shape == rgba.data.shape and np.all(out[..., 3] == np.float32(0.7))


def test_grey_in_grey_out(kind_models, photo):
    grey = photo.with_data(np.ascontiguousarray(photo.data[..., 1:2]))
    out = LowlightOp().run(grey, LowlightParams(), RunContext()).data
    assert out.shape == grey.data.shape and np.isfinite(out).all()


def test_params_metadata_and_an_explicit_ratio_turns_auto_off():
    specs = {f.name: f for f in dataclasses.fields(LowlightParams)}
    assert specs["ratio"].metadata["min"] == 0.5 and specs["ratio"].metadata["max"] == 16.0
    assert LowlightOp().prominent_param == "ratio"
    assert LowlightParams().auto_ratio
    step = parse_op_arg("lowlight:ratio=3")
    assert step.params.ratio == 3.0 and not step.params.auto_ratio
    assert make_params(LowlightParams, {"ratio": 3, "auto_ratio": "on"}).auto_ratio
    with pytest.raises(ValueError, match="outside"):
        make_params(LowlightParams, {"ratio": 17})


def test_version_1_recipe_with_the_old_default_strength_gets_the_new_default():
    from app.core.pipeline.recipe import Recipe

    old = {"format": "photorestore-recipe", "version": 1,
           "steps": [{"op": "lowlight", "op_version": 1, "params": {"ratio": 3.0, "auto_ratio": False,
                                                                  "strength": 1.0}}]}
    step = Recipe.from_dict(old).steps[0]
    assert step.params.strength == LowlightParams().strength == 0.7 and step.params.ratio == 3.0
    old["steps"][0]["params"]["strength"] = 0.4  # a strength the user chose is kept
    assert Recipe.from_dict(old).steps[0].params.strength == 0.4
