from __future__ import annotations

import numpy as np
import pytest

from app.core.context import Cancelled, RunContext
from app.core.image import Image
from app.core.ops import all_ops, get_op, make_params, param_specs


def _smooth(h=200, w=160):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 0.5 + 0.3 * np.sin(x / 9) * np.cos(y / 7)], axis=2) * 0.8 + 0.1
    return img.astype(np.float32)


def test_every_op_has_described_params():
    for op in all_ops(include_internal=True):
        for spec in param_specs(op.Params):
            assert spec.label
            if spec.type in (int, float) and spec.min is not None:
                assert spec.min <= spec.default <= spec.max, (op.id, spec.name)


def test_exposure_plus_one_ev_doubles_linear_light():
    img = Image(np.full((4, 4, 3), 0.2, np.float32))
    out = get_op("exposure").run(img, make_params(get_op("exposure").Params, {"ev": 1.0}), RunContext())
    lin = lambda v: ((v + 0.055) / 1.055) ** 2.4  # noqa: E731
    assert lin(out.data[0, 0, 0]) == pytest.approx(2 * lin(0.2), rel=1e-4)


def test_nlm_reduces_noise_and_is_seamless_across_bands():
    rng = np.random.default_rng(1)
    clean = _smooth(600, 200)
    noisy = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1).astype(np.float32)
    op = get_op("nlm_denoise")
    out = op.run(Image(noisy), make_params(op.Params, {"strength": 10, "color_strength": 10}), RunContext())
    mse = lambda a: float(((a - clean) ** 2).mean())  # noqa: E731
    assert mse(out.data) < 0.5 * mse(noisy)
    # Banded processing (256 rows) must equal one-shot processing away from the image borders.
    whole = op.run(Image(noisy[200:330]), make_params(op.Params, {"strength": 10, "color_strength": 10}),
                   RunContext())
    assert np.abs(whole.data[20:-20] - out.data[220:310]).max() < 2 / 255


def test_unsharp_increases_edge_contrast_and_threshold_spares_noise():
    img = np.zeros((40, 40, 3), np.float32)
    img[:, 20:] = 0.6
    img += 0.2
    op = get_op("unsharp")
    out = op.run(Image(img), make_params(op.Params, {"amount": 1.0, "radius": 2.0}), RunContext()).data
    assert out[:, 21].mean() > img[:, 21].mean() and out[:, 18].mean() < img[:, 18].mean()
    rng = np.random.default_rng(0)
    flat = (0.5 + rng.normal(0, 0.005, (40, 40, 3))).astype(np.float32)
    kept = op.run(Image(flat), make_params(op.Params, {"amount": 2.0, "threshold": 0.05}), RunContext()).data
    assert np.allclose(kept, flat)


@pytest.mark.parametrize("op_id", ["exposure", "nlm_denoise", "unsharp"])
def test_classical_ops_honour_cancellation(op_id):
    ctx = RunContext()
    ctx.cancel()
    op = get_op(op_id)
    with pytest.raises(Cancelled):
        op.run(Image(_smooth()), op.default_params(), ctx)


def test_ops_preserve_16bit_precision_for_tiny_changes():
    ramp = np.linspace(0.1, 0.9, 4096, dtype=np.float32).reshape(64, 64, 1).repeat(3, axis=2)
    op = get_op("exposure")
    out = op.run(Image(ramp), make_params(op.Params, {"ev": 0.01}), RunContext()).data
    assert len(np.unique(np.round(out[..., 0] * 65535))) > 3000  # far beyond 8-bit's 256 levels
