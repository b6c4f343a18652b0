"""Heteroscedastic shot/read noise, the DND/SIDD samplers and the per-camera calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from app.core.isp.noise import (
    NOISE_MODELS,
    NoiseParams,
    add_noise,
    add_noise_np,
    calibrated_noise_params,
    load_calibration,
    noise_variance,
    noise_variance_np,
    quantize,
    quantize_np,
    sample_noise_params,
)

LEVELS = [0.0, 0.01, 0.1, 0.5, 0.9]
NOISE = [(1e-4, 1e-7), (2e-3, 4e-6), (1.5e-2, 2e-4)]


@pytest.mark.parametrize("shot,read", NOISE)
def test_torch_noise_variance_matches_request(shot, read):
    g = torch.Generator().manual_seed(0)
    x = torch.tensor(LEVELS).reshape(1, -1, 1, 1).expand(1, len(LEVELS), 400, 500).contiguous()
    noisy = add_noise(x, shot, read, generator=g)
    measured = (noisy - x).var(dim=(0, 2, 3))
    expected = noise_variance(x[:, :, :1, :1], shot, read).flatten()
    torch.testing.assert_close(measured, expected, rtol=0.05, atol=0)
    assert abs(float((noisy - x).mean())) < 0.01 * math.sqrt(shot * 0.5 + read)


@pytest.mark.parametrize("shot,read", NOISE)
def test_numpy_noise_variance_matches_request(shot, read):
    rng = np.random.default_rng(1)
    for level in LEVELS:
        x = np.full(200_000, level, np.float32)
        measured = (add_noise_np(x, NoiseParams(shot, read), rng) - x).var()
        assert measured == pytest.approx(shot * level + read, rel=0.05)


def test_per_sample_noise_levels_in_a_batch():
    x = torch.full((2, 1, 300, 300), 0.3)
    shot, read = torch.tensor([1e-4, 1e-2]), torch.tensor([1e-6, 1e-4])
    var = (add_noise(x, shot, read, generator=torch.Generator().manual_seed(2)) - x).var(dim=(1, 2, 3))
    torch.testing.assert_close(var, shot * 0.3 + read, rtol=0.05, atol=0)


def test_variance_map_and_noise_are_seeded():
    x = np.array([-0.1, 0.0, 0.5], np.float32)
    np.testing.assert_allclose(noise_variance_np(x, 0.01, 1e-4), [1e-4, 1e-4, 0.0051], rtol=1e-6)
    a = add_noise_np(np.full(10, 0.2, np.float32), NoiseParams(1e-3, 1e-5), np.random.default_rng(3))
    b = add_noise_np(np.full(10, 0.2, np.float32), NoiseParams(1e-3, 1e-5), np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_quantisation_levels():
    x = torch.tensor([0.0, 0.5, 1.0, -0.01])
    q = quantize(x, 8)
    torch.testing.assert_close(q * 255, torch.round(q * 255))
    assert float(q[-1]) < 0  # read noise below black survives
    np.testing.assert_allclose(quantize_np(x.numpy(), 8), q.numpy())


@pytest.mark.parametrize("model", ["dnd", "sidd"])
def test_sampled_levels_follow_the_log_linear_relation(model):
    m = NOISE_MODELS[model]
    rng = np.random.default_rng(42)
    samples = [sample_noise_params(model, rng) for _ in range(20_000)]
    ls = np.log10([s.shot for s in samples])
    lr = np.log10([s.read for s in samples])
    lo, hi = m.log_shot_range
    assert lo <= ls.min() and ls.max() <= hi
    # Uniform in log10(shot): mean and std of U(lo, hi).
    assert ls.mean() == pytest.approx((lo + hi) / 2, abs=0.02)
    assert ls.std() == pytest.approx((hi - lo) / math.sqrt(12), rel=0.02)
    slope, intercept = np.polyfit(ls, lr, 1)
    assert slope == pytest.approx(m.slope, abs=0.03)
    assert intercept == pytest.approx(m.intercept, abs=0.1)
    assert np.std(lr - (m.slope * ls + m.intercept)) == pytest.approx(m.sigma, rel=0.03)


def test_exact_constants_from_the_issue():
    assert NOISE_MODELS["dnd"].log_shot_range == pytest.approx((-4.0, math.log10(0.012)))
    assert (NOISE_MODELS["dnd"].slope, NOISE_MODELS["dnd"].intercept, NOISE_MODELS["dnd"].sigma) == (
        2.18,
        1.20,
        0.26,
    )
    assert 10 ** np.array(NOISE_MODELS["sidd"].log_shot_range) == pytest.approx([6.87e-4, 2.19e-2])
    assert (NOISE_MODELS["sidd"].slope, NOISE_MODELS["sidd"].intercept, NOISE_MODELS["sidd"].sigma) == (
        1.85,
        0.30,
        0.20,
    )


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError):
        sample_noise_params("gaussian", np.random.default_rng(0))


def test_calibration_file_is_complete():
    cal = load_calibration()
    assert cal["iso_relation"]["shot_exponent"] > 0 and cal["iso_relation"]["read_exponent"] > 0
    assert "generic" in cal["cameras"]
    usable = [n for n, c in cal["cameras"].items() if c["use_for_sampling"]]
    assert usable
    for name, c in cal["cameras"].items():
        assert c["shot"] > 0 and c["read"] > 0, name
        assert c["domain"] in ("raw", "srgb_pipeline_equivalent", "mixed"), name


def test_calibrated_params_scale_with_iso_and_match_aliases():
    cal = load_calibration()
    name, entry = next((n, c) for n, c in cal["cameras"].items() if c["domain"] == "raw" and c.get("iso"))
    base = calibrated_noise_params(name)
    assert base.shot == pytest.approx(entry["shot"]) and base.iso == entry["iso"]
    double = calibrated_noise_params(name, 2 * entry["iso"])
    rel = cal["iso_relation"]
    assert double.shot == pytest.approx(entry["shot"] * 2 ** rel["shot_exponent"])
    assert double.read == pytest.approx(entry["read"] * 2 ** rel["read_exponent"])
    assert calibrated_noise_params("Some Unknown Phone").camera == "generic"
    assert calibrated_noise_params(None).camera == "generic"
    if "Canon EOS 550D" in cal["cameras"]:
        assert calibrated_noise_params("Canon EOS Kiss X4").camera == "Canon EOS 550D"
    if "Canon EOS 5D Mark II" in cal["cameras"]:
        assert calibrated_noise_params("canon eos 5d mark ii").camera == "Canon EOS 5D Mark II"


def test_calibrated_sampling_is_seeded_and_uses_usable_cameras():
    cal = load_calibration()
    usable = {n for n, c in cal["cameras"].items() if c["use_for_sampling"]}
    a = [sample_noise_params("calibrated", np.random.default_rng(s)) for s in range(30)]
    b = [sample_noise_params("calibrated", np.random.default_rng(s)) for s in range(30)]
    assert a == b
    assert {p.camera for p in a} <= usable
    assert all(1e-7 < p.shot < 0.1 and 0 < p.read < 0.01 for p in a)


def test_calibrated_sampling_stays_in_the_camera_iso_range():
    cal = load_calibration()
    name, entry = next((n, c) for n, c in cal["cameras"].items() if c.get("iso") and c.get("iso_range"))
    lo, hi = entry["iso_range"]
    draws = [sample_noise_params("calibrated", np.random.default_rng(s), camera=name) for s in range(40)]
    assert all(p.camera == name and lo <= p.iso <= hi for p in draws)
    # Higher ISO means more noise (up to the +-jitter decades of randomness).
    by_iso = sorted(draws, key=lambda p: p.iso)
    assert np.mean([p.shot for p in by_iso[-10:]]) > 3 * np.mean([p.shot for p in by_iso[:10]])
