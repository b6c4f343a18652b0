"""Low light's nets at a bounded scale (``NET_MAX_PIXELS``, issue 23): full-size output, edges kept."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core.context import RunContext
from app.core.image import Image
from app.core.metrics.psnr import psnr
from app.core.ops import lowlight_stages as st
from app.core.ops.lowlight import LowlightOp, LowlightParams


def test_net_input_is_bounded_and_untouched_below_the_bound(monkeypatch):
    monkeypatch.setattr(st, "NET_MAX_PIXELS", 10_000)
    small = np.zeros((100, 100, 3), np.float32)
    assert st._net_input(small) is small
    big = np.zeros((300, 500, 3), np.float32)
    out = st._net_input(big)
    assert out.shape[0] * out.shape[1] <= 10_000 and out.shape[2] == 3
    assert abs(out.shape[1] / out.shape[0] - 500 / 300) < 0.05  # aspect kept


def test_guided_upsampling_keeps_an_edge_that_bilinear_blurs():
    # A lamp-lit half and a dark half: L follows the guide's edge (KinD's L is piecewise smooth).
    h, w, f = 240, 320, 4
    guide_full = np.full((h, w), 0.1, np.float32)
    guide_full[:, w // 2 + 2:] = 0.8  # the edge is not on the low-res grid
    guide = cv2.resize(guide_full, (w // f, h // f), interpolation=cv2.INTER_AREA)
    l_net = 0.05 + 0.9 * guide
    truth = 0.05 + 0.9 * guide_full
    up = st._guided_upsample(l_net, guide, guide_full)
    bilinear = cv2.resize(l_net, (w, h), interpolation=cv2.INTER_LINEAR)
    assert up.shape == (h, w) and up.dtype == np.float32
    band = slice(w // 2 - 8, w // 2 + 12)  # around the edge
    assert np.abs(up - truth)[:, band].max() < 0.05
    assert np.abs(bilinear - truth)[:, band].max() > 0.2
    assert np.abs(up - truth).mean() < 0.01


def _dark_photo(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    base = cv2.GaussianBlur(rng.random((h // 8, w // 8, 3)).astype(np.float32), (0, 0), 1.5)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    img[h // 3: h // 2, w // 4: w // 2] = 0.9  # a lit window: a hard edge in L
    return np.clip(0.12 * img + rng.normal(0, 0.004, img.shape).astype(np.float32), 0, 1)


def test_bounded_nets_give_a_full_size_result_close_to_full_size_nets(lowlight_op, monkeypatch):
    x = _dark_photo(192, 288)
    params, ctx = LowlightParams(), RunContext(device="cpu")
    full = LowlightOp().run(Image(x), params, ctx)
    monkeypatch.setattr(st, "NET_MAX_PIXELS", 96 * 144)  # the nets at a quarter of the pixels
    state = st.decompose(Image(x), params, ctx)
    assert state["R_low"].shape[:2] == (96, 144) and tuple(state["L"].shape[-2:]) == (192, 288)
    state = st.restore(state, params, ctx)
    assert state["R"].shape[:2] == (96, 144) and state["R_Y_enc"].shape == (192, 288)
    bounded = LowlightOp().run(Image(x), params, ctx)
    assert bounded.data.shape == x.shape
    assert bounded.meta.extra["lowlight"]["ratio"] == pytest.approx(full.meta.extra["lowlight"]["ratio"], rel=0.1)
    assert psnr(bounded.data, full.data) > 38.0  # 45 dB when written
