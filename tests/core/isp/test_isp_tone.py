"""sRGB <-> linear transfer curves and the smoothstep tone curve."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.isp.tone import (
    inverse_smoothstep,
    linear_to_srgb,
    linear_to_srgb_np,
    smoothstep,
    srgb_to_linear,
    srgb_to_linear_np,
)


def _reference_decode(x: np.ndarray) -> np.ndarray:
    a = np.abs(x.astype(np.float64))
    return np.sign(x) * np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)


def test_numpy_decode_matches_iec_formula_and_inverts():
    x = np.linspace(-0.2, 1.5, 100_001, dtype=np.float32)
    lin = srgb_to_linear_np(x)
    assert lin.dtype == np.float32
    np.testing.assert_allclose(lin, _reference_decode(x), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(linear_to_srgb_np(lin), x, atol=2e-6)


def test_known_values():
    out = srgb_to_linear_np(np.array([0.0, 0.5, 1.0], np.float32))
    np.testing.assert_allclose(out, [0.0, 0.21404114, 1.0], atol=1e-6)


def test_numpy_in_place_and_shape():
    rng = np.random.default_rng(0)
    img = rng.uniform(size=(7, 9, 3)).astype(np.float32)
    expected = srgb_to_linear_np(img)
    buf = img.copy()
    out = srgb_to_linear_np(buf, out=buf)
    assert out is buf and out.shape == (7, 9, 3)
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError):
        srgb_to_linear_np(img, out=np.empty((7, 9, 3), np.float64))


def test_torch_matches_numpy():
    x = torch.linspace(-0.1, 1.2, 5001).reshape(1, 3, 1, -1)[:, :, :, :1667]
    np.testing.assert_allclose(srgb_to_linear(x).numpy(), srgb_to_linear_np(x.numpy()), atol=1e-6)
    np.testing.assert_allclose(linear_to_srgb(x).numpy(), linear_to_srgb_np(x.numpy()), atol=1e-6)


def test_gradients_are_finite_everywhere():
    x = torch.tensor([0.0, 1e-8, 0.0031308, 0.04045, 0.5, 1.0], requires_grad=True)
    (linear_to_srgb(x).sum() + srgb_to_linear(x).sum() + inverse_smoothstep(x).sum()).backward()
    assert torch.isfinite(x.grad).all()


def test_smoothstep_round_trip():
    y = torch.linspace(0, 1, 10001)
    torch.testing.assert_close(smoothstep(inverse_smoothstep(y)), y, atol=1e-5, rtol=0)
    assert float(smoothstep(torch.tensor(0.5))) == pytest.approx(0.5)


def test_non_negative_fast_path_matches_the_signed_path():
    # app.core.color skips the sign handling when nothing is negative: the same values either way.
    x = np.linspace(0.0, 1.5, 50_001, dtype=np.float32)
    for f, ref in ((srgb_to_linear_np, _reference_decode(x)), (linear_to_srgb_np, None)):
        fast = f(x)
        signed = f(np.concatenate([x, np.float32([-0.5])]))[:-1]  # one negative value: the signed path
        np.testing.assert_array_equal(fast, signed)
        if ref is not None:
            np.testing.assert_allclose(fast, ref, rtol=2e-6, atol=1e-7)
        buf = x.copy()
        np.testing.assert_array_equal(f(buf, out=buf), fast)  # in place
