"""The ``lowlight`` op's plumbing with the real KinD nets at seeded random weights (no trained weights).

The three nets are built by the catalog's builders and exported to a temporary models directory, so the
registry verifies them exactly as it would the shipped ones. Random weights say nothing about quality
(that is ``test_lowlight_shipped.py``); these tests check stages, caching, tiling, fusion and errors.
"""

from __future__ import annotations

import dataclasses
import threading

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
    """decompose -> adjust net forward -> R * L', recomputed here from the loaded modules."""
    params = LowlightParams(ratio=3.0, auto_ratio=False, denoise_reflectance=False)
    out = LowlightOp().run(photo, params, RunContext()).data
    x = torch.from_numpy(photo.data.transpose(2, 0, 1).copy())[None]
    with torch.inference_mode():
        d = load_model(st.DECOMPOSITION_ID, "cpu").module(x)
        l_adj = load_model(st.ADJUSTMENT_ID, "cpu").module(d[:, 3:], 3.0)
        want = (d[:, :3] * l_adj).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, want, atol=2e-4)


def test_strength_blends_raw_and_restored_reflectance(kind_models, photo):
    op, ctx = LowlightOp(), RunContext()
    full = dict(ratio=2.0, auto_ratio=False)
    state = st.adjust(st.restore(st.decompose(photo, None, ctx), LowlightParams(**full), ctx),
                      LowlightParams(**full), ctx)
    half = st.fuse(state, LowlightParams(**full, strength=0.5), ctx).data
    r = 0.5 * (state["R_low"] + state["R"])
    np.testing.assert_allclose(half, np.clip(r * state["L_adj"][..., None], 0, 1), atol=1e-6)
    assert not np.allclose(state["R"], state["R_low"])  # restoration ran and changed R
    assert op.run(photo, LowlightParams(**full), ctx).data.shape == photo.data.shape


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
    assert specs["ratio"].metadata["min"] == 0.5 and specs["ratio"].metadata["max"] == 8.0
    assert LowlightOp().prominent_param == "ratio"
    assert LowlightParams().auto_ratio
    step = parse_op_arg("lowlight:ratio=3")
    assert step.params.ratio == 3.0 and not step.params.auto_ratio
    assert make_params(LowlightParams, {"ratio": 3, "auto_ratio": "on"}).auto_ratio
    with pytest.raises(ValueError, match="outside"):
        make_params(LowlightParams, {"ratio": 9})
