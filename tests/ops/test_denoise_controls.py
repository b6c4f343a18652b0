"""Denoise controls: luminance strength, colour strength and detail as an exact luma/chroma split of the
network's change; defaults identical to the single strength of version 1; old recipes migrate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.core.ops.base import param_specs
from app.core.ops.denoise import DenoiseParams
from app.core.ops.denoise_blend import SRGB_LUMA, blend_luma_chroma, strength_gain
from app.core.ops.registry import get_op
from app.core.pipeline.recipe import Recipe


def _pair(c: int = 3):
    g = torch.Generator().manual_seed(0)
    noisy = torch.rand(1, c, 32, 40, generator=g)
    den = (noisy + 0.1 * torch.randn(1, c, 32, 40, generator=g)).clamp(0, 1)
    return noisy, den


def _luma(t: torch.Tensor) -> torch.Tensor:
    return (t * torch.tensor(SRGB_LUMA).view(1, 3, 1, 1)).sum(1)


def test_defaults_are_the_old_single_strength_blend_bit_for_bit():
    noisy, den = _pair()
    for s in (0.0, 0.5, 1.0, 1.5):
        k = strength_gain(s)
        old = noisy + k * (den - noisy) if k != 1.0 else den.clone()
        assert torch.equal(blend_luma_chroma(noisy, den.clone(), s, s), old)
    p = DenoiseParams()
    assert (p.strength, p.color_strength, p.detail) == (1.0, 1.0, 0.0)


def test_luminance_and_colour_act_on_their_own_part():
    noisy, den = _pair()
    delta = den - noisy
    # Colour off: the result's luma change is the network's; no colour change remains.
    out = blend_luma_chroma(noisy, den.clone(), 1.0, 0.0)
    change = out - noisy
    assert torch.allclose(_luma(change), _luma(delta), atol=1e-6)
    assert torch.allclose(change, _luma(delta)[:, None].expand_as(change), atol=1e-6)  # grey only
    # Luminance off: only the zero-luma (colour) change is applied.
    out = blend_luma_chroma(noisy, den.clone(), 0.0, 1.0)
    assert torch.allclose(_luma(out - noisy), torch.zeros_like(_luma(out)), atol=1e-6)
    assert torch.allclose(out - noisy, delta - _luma(delta)[:, None], atol=1e-6)
    # Both at 1: the network's result (through the split path too).
    both = blend_luma_chroma(noisy, den.clone(), 1.0, 1.0, 1e-9)
    assert torch.allclose(both, den, atol=1e-6)


def test_detail_keeps_the_finest_luma_structure():
    noisy, den = _pair()
    full = blend_luma_chroma(noisy, den.clone(), 1.0, 1.0, 0.0)
    kept = blend_luma_chroma(noisy, den.clone(), 1.0, 1.0, 1.0)
    # More detail = closer to the input's high frequencies, same colour and same coarse luma.
    hp = lambda t: t - torch.nn.functional.avg_pool2d(t, 5, 1, 2, count_include_pad=False)  # noqa: E731
    assert hp(_luma(kept - noisy)[:, None]).abs().mean() < 0.6 * hp(_luma(full - noisy)[:, None]).abs().mean()
    assert torch.allclose((kept - full) - _luma(kept - full)[:, None], torch.zeros_like(kept), atol=1e-6)


def test_mosaic_split_uses_the_four_planes():
    noisy, den = _pair(4)
    out = blend_luma_chroma(noisy, den.clone(), 1.0, 0.0)
    change = out - noisy
    assert torch.allclose(change, change.mean(1, keepdim=True).expand_as(change), atol=1e-6)
    with pytest.raises(ValueError):
        blend_luma_chroma(*_pair(2), 1.0, 0.5)


def test_version_1_recipe_migrates_strength_to_both():
    op = get_op("denoise")
    assert op.version == 4 and DenoiseParams.VERSION == 4
    old = {"format": "photorestore-recipe", "version": 1,
           "steps": [{"op": "denoise", "op_version": 1, "params": {"strength": 0.6}}]}
    step = Recipe.from_dict(json.loads(json.dumps(old))).steps[0]
    assert (step.params.strength, step.params.color_strength, step.params.detail) == (0.6, 0.6, 0.0)


def test_controls_have_plain_tooltips():
    specs = {s.name: s for s in param_specs(DenoiseParams)}
    assert specs["strength"].label == "Luminance" and "grain" in specs["strength"].help
    assert specs["color_strength"].label == "Colour" and "colour noise" in specs["color_strength"].help
    assert "texture" in specs["detail"].help
    assert "not a blend" in specs["noise_scale"].help


@pytest.mark.parametrize("lum,col", [(1.0, 0.0), (0.0, 1.0)])
def test_real_op_output_follows_the_split(lum, col):
    op = get_op("denoise")
    if not op.availability(DenoiseParams(mode="srgb"))[0]:
        pytest.skip("sRGB denoiser not trained")
    from app.core.context import RunContext
    from app.core.image import ColorSpace, Image

    rng = np.random.default_rng(1)
    base = np.clip(0.5 + 0.2 * np.sin(np.arange(64)[None, :, None] / 5.0) + 0 * np.zeros((64, 64, 3)), 0, 1)
    noisy = np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)
    img = Image(noisy, ColorSpace.SRGB)
    full = op.run(img, DenoiseParams(mode="srgb"), RunContext(device="cpu")).data
    part = op.run(img, DenoiseParams(mode="srgb", strength=lum, color_strength=col), RunContext(device="cpu")).data
    w = np.array(SRGB_LUMA, np.float32)
    d_full, d_part = full - noisy, part - noisy
    if col == 0.0:
        assert np.allclose(d_part @ w, d_full @ w, atol=2e-3)  # same grain removal (up to clipping)
    else:
        assert np.abs(d_part @ w).max() < 2e-3  # brightness untouched
