"""The ``denoise`` op on real RAW files and photos, with small registered test models (no trained weights).

The RAW model is a :class:`~app.core.models.testing.TinyConvNet` taking the op's 8-channel input (packed
RGGB + 4 variance planes) to 4 planes; its output depends on every input channel, so the tests can check
the op's plumbing (Bayer phases, variance map, tiling, blending) against an independent computation.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
import torch

from app.core.context import Cancelled, RunContext
from app.core.image import ColorSpace, Image
from app.core.io import load_image
from app.core.isp.mosaic import pack_rggb_np, unpack_rggb_np
from app.core.isp.noise import calibrated_noise_params, noise_variance_np
from app.core.models.registry import ModelUnavailableError, load_model
from app.core.models.testing import temporary_model
from app.core.ops import denoise as dn
from app.core.ops.denoise import DenoiseParams, blend, raw_input
from app.core.ops.registry import get_op
from app.core.pipeline.engine import OpUnavailableError, Pipeline
from app.core.pipeline.recipe import Step

CR2 = "bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
KDC = "bayer/rawpy-test_RAW_KODAK_DC50.KDC"
RAW_KW = {"in_channels": 8, "cond_channels": 4, "out_channels": 4, "input_space": "bayer4", "size_multiple": 2,
          "overlap": 48, "value_range": (-0.1, 1.0)}


@pytest.fixture
def raw_model(tmp_path, monkeypatch):
    """A verified 8 -> 4 channel RAW test model under the op's fast RAW id (restored afterwards)."""
    with temporary_model(tmp_path, "tiny_raw_denoise", seed=3, **RAW_KW) as desc:
        monkeypatch.setitem(dn.MODEL_IDS, ("raw", "fast"), desc.id)
        yield desc


@pytest.fixture
def srgb_model(tmp_path, monkeypatch):
    with temporary_model(tmp_path, "tiny_srgb_denoise", seed=4) as desc:
        monkeypatch.setitem(dn.MODEL_IDS, ("srgb", "fast"), desc.id)
        yield desc


@pytest.fixture(scope="module")
def cr2(raw_dir) -> Image:
    return load_image(raw_dir / CR2, raw_as="bayer")


def crop(image: Image, y: int, x: int, h: int, w: int) -> Image:
    """An even-aligned crop of a BAYER image (keeps the RGGB phase and the RawInfo)."""
    assert y % 2 == 0 and x % 2 == 0
    return image.with_data(np.ascontiguousarray(image.data[y : y + h, x : x + w]))


def expected_raw(image: Image, model_id: str, shot: float, read: float, strength: float = 1.0) -> np.ndarray:
    """What the op must compute, built from the ISP's numpy packing and noise helpers."""
    packed = pack_rggb_np(image.data)
    var = noise_variance_np(packed, shot, read)
    model = load_model(model_id, "cpu")
    x = torch.from_numpy(np.concatenate([packed, var], -1).transpose(2, 0, 1).copy())[None]
    den = model.run_tensor(x, tile=10_000)[0].permute(1, 2, 0).numpy()
    k = strength if strength <= 1 else 1 + (strength - 1) / 2
    return np.minimum(unpack_rggb_np(packed + k * (den - packed)), 1.0)


def test_untrained_models_make_the_op_unavailable_with_the_reason(tmp_path, monkeypatch, raw_dir):
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path))  # empty: nothing trained
    op = get_op("denoise")
    ok, why = op.availability(DenoiseParams(mode="raw"))
    assert not ok and "cycleisp_raw_denoise" in why and "no trained weights" in why
    ok, why = op.availability()
    assert not ok and "cycleisp_raw_denoise" in why and "cycleisp_srgb_denoise" in why
    image = load_image(raw_dir / KDC, raw_as="bayer")
    with pytest.raises(ModelUnavailableError, match="cycleisp_raw_denoise"):
        op.run(image, DenoiseParams(mode="raw"), RunContext())
    with pytest.raises(OpUnavailableError, match="no trained weights"):
        Pipeline().run(image, [Step("denoise", DenoiseParams())])


def test_raw_mode_denoises_the_mosaic_with_the_calibrated_variance(raw_model, cr2):
    image = crop(cr2, 600, 1000, 256, 384)
    # adaptive off: the network's own output (the noise-aware guard is tests/ops/test_denoise_raw_guard.py)
    out = get_op("denoise").run(image, DenoiseParams(mode="raw", adaptive=False), RunContext(device="cpu"))
    assert out.space is ColorSpace.BAYER and out.data.shape == image.data.shape and out.raw is image.raw
    info = out.meta.extra["denoise"]
    assert info["noise_source"] == "calibration: Canon EOS 30D at ISO 640"
    cal = calibrated_noise_params("Canon EOS 30D", 640)
    assert info["shot"] == [pytest.approx(cal.shot)] * 4 and info["read"] == [pytest.approx(cal.read)] * 4
    want = expected_raw(image, raw_model.id, cal.shot, cal.read)
    np.testing.assert_allclose(out.data, want, atol=2e-5)
    assert np.abs(out.data - image.data).mean() > 1e-3  # the (random, untrained) net changed the mosaic


def test_raw_input_is_packed_rggb_then_the_per_plane_variance(cr2):
    image = crop(cr2, 200, 300, 64, 96)
    x, noise = raw_input(image, DenoiseParams(noise_source="manual", shot=3e-3, read=2e-5, noise_scale=2.0))
    assert x.shape == (1, 8, 32, 48) and noise.shot == (1.2e-2,) * 4
    packed = pack_rggb_np(image.data)
    np.testing.assert_array_equal(x[0, :4].permute(1, 2, 0).numpy(), packed)
    np.testing.assert_allclose(x[0, 4:].permute(1, 2, 0).numpy(), noise_variance_np(packed, 1.2e-2, 8e-5),
                               rtol=1e-6)
    assert packed[0, 0, 0] == image.data[0, 0, 0] and packed[0, 0, 3] == image.data[1, 1, 0]  # R, B sites


def test_strength_blends_and_extrapolates_gently(raw_model, cr2):
    # Luminance and colour strength together: the single strength of op version 1.
    image = crop(cr2, 1000, 2000, 128, 192)
    op = get_op("denoise")
    off = DenoiseParams(strength=0.0, color_strength=0.0)
    assert op.run(image, off, RunContext()) is image  # no network run at all
    full = op.run(image, DenoiseParams(strength=1.0, adaptive=False), RunContext(device="cpu")).data
    half = op.run(image, DenoiseParams(strength=0.5, color_strength=0.5, adaptive=False), RunContext(device="cpu")).data
    np.testing.assert_allclose(half, image.data + 0.5 * (full - image.data), atol=2e-5)
    more = op.run(image, DenoiseParams(strength=1.5, color_strength=1.5, adaptive=False),
                  RunContext(device="cpu")).data
    cal = calibrated_noise_params("Canon EOS 30D", 640)
    np.testing.assert_allclose(more, expected_raw(image, raw_model.id, cal.shot, cal.read, 1.5), atol=2e-5)
    t = torch.tensor([1.0, 2.0])
    assert blend(t, torch.tensor([3.0, 2.0]), 1.5).tolist() == [3.5, 2.0]


def test_tiles_overlap_enough_to_match_the_whole_image_run(raw_model, cr2):
    image = crop(cr2, 400, 400, 300, 420)  # 150 x 210 packed: many tiles at 64 px
    op = get_op("denoise")
    whole = op.run(image, DenoiseParams(), RunContext(device="cpu", tile=4096)).data
    texts: list[str] = []
    tiled = op.run(image, DenoiseParams(), RunContext(lambda f, t: texts.append(t), device="cpu", tile=64)).data
    assert sum(t.startswith("tile") for t in texts) > 4
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_progress_per_tile_and_cancellation(raw_model, cr2):
    image = crop(cr2, 0, 0, 256, 256)
    cancel = threading.Event()
    seen: list[tuple[float, str]] = []

    def progress(fraction: float, text: str) -> None:
        seen.append((fraction, text))
        if text.startswith("tile 1/"):
            cancel.set()

    with pytest.raises(Cancelled):
        get_op("denoise").run(image, DenoiseParams(), RunContext(progress, cancel, device="cpu", tile=64))
    tiles = [t for _, t in seen if t.startswith("tile")]
    assert tiles == ["tile 1/" + tiles[0].split("/")[1]]  # stopped right after the first tile
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)


def test_noise_level_sources_in_order(raw_model, cr2):
    image = crop(cr2, 600, 1000, 512, 512)
    op = get_op("denoise")
    with_profile = dataclasses.replace(image, raw=dataclasses.replace(image.raw, noise_profile=((2e-4, 1e-6),) * 3))
    info = op.run(with_profile, DenoiseParams(), RunContext(device="cpu")).meta.extra["denoise"]
    assert info["noise_source"] == "DNG NoiseProfile" and info["shot"] == [2e-4] * 4
    unknown = dataclasses.replace(image, meta=dataclasses.replace(image.meta, camera_make="Acme",
                                                                  camera_model="Prototype 1"))
    info = op.run(unknown, DenoiseParams(), RunContext(device="cpu")).meta.extra["denoise"]
    assert info["noise_source"] == "estimated from the image"
    cal = calibrated_noise_params("Canon EOS 30D", 640)
    assert cal.shot / 2 < info["shot"][0] < cal.shot * 2  # the real file's own noise, measured twice
    info = op.run(image, DenoiseParams(noise_source="manual", shot=1e-3, read=1e-5, noise_scale=2.0),
                  RunContext(device="cpu")).meta.extra["denoise"]
    assert info["noise_source"] == "manual x2" and info["shot"] == [pytest.approx(4e-3)] * 4
    with pytest.raises(ValueError, match="no DNG NoiseProfile"):
        op.run(image, DenoiseParams(noise_source="profile"), RunContext(device="cpu"))


def test_srgb_mode_on_a_photo(srgb_model, datasets_dir):
    photo = sorted((datasets_dir / "noise/polyu/cropped_512").glob("*_real.JPG"))[0]
    image = load_image(photo)
    out = get_op("denoise").run(image, DenoiseParams(mode="auto"), RunContext(device="cpu", tile=128))
    want = load_model(srgb_model.id, "cpu")(image.data, tile=4096)
    assert out.space is ColorSpace.SRGB and out.meta.extra["denoise"]["mode"] == "srgb"
    np.testing.assert_allclose(out.data, np.clip(want, 0, 1), atol=1e-5)
    with pytest.raises(ValueError, match="needs a RAW file"):
        get_op("denoise").run(image, DenoiseParams(mode="raw"), RunContext())


def test_auto_without_a_raw_model_develops_then_denoises_in_srgb(srgb_model, raw_dir, tmp_path):
    image = load_image(raw_dir / KDC, raw_as="bayer")
    op = get_op("denoise")
    ok, why = op.availability()
    assert ok and "developed first" in why
    ctx = RunContext(device="cpu")
    out = op.run(image, DenoiseParams(), ctx)
    assert out.space is ColorSpace.SRGB and out.meta.extra["denoise"]["mode"] == "srgb"
    assert any("denoising in sRGB instead" in w for w in ctx.warnings)


def test_pipeline_runs_raw_denoise_before_development(raw_model, raw_dir):
    image = load_image(raw_dir / KDC, raw_as="bayer")
    # adaptive off: the KDC is clean (display noise ~0.4/255), so the noise-aware guard would return its input
    steps = [Step("denoise", DenoiseParams(adaptive=False)), Step("exposure", get_op("exposure").default_params())]
    pipe = Pipeline()
    labels = [p.label for p in pipe.plan(image, steps, "kdc")]
    assert labels.index("denoise.run") < labels.index("develop.run") < labels.index("exposure.run")
    out = pipe.run(image, steps, RunContext(device="cpu"))
    plain = pipe.run(image, [Step("exposure", get_op("exposure").default_params())], RunContext(device="cpu"))
    assert out.space is ColorSpace.SRGB and out.data.shape == plain.data.shape
    assert np.abs(out.data - plain.data).mean() > 1e-4  # the denoised mosaic was developed, not the original


def test_recipe_and_cli_syntax_round_trip(tmp_path):
    from app.core.pipeline.recipe import Recipe, parse_op_arg

    step = parse_op_arg("denoise:mode=raw,strength=1.25,noise_source=manual,shot=0.002,read=1e-5")
    assert step.params == DenoiseParams(mode="raw", strength=1.25, noise_source="manual", shot=0.002, read=1e-5)
    path = Recipe([step]).save(tmp_path / "r.json")
    assert Recipe.load(path).steps[0].params == step.params
    with pytest.raises(ValueError, match="outside"):
        parse_op_arg("denoise:strength=2")
