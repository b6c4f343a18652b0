"""The dejpeg task's degradation: libjpeg at a drawn quality, the hint the net is told, deterministic."""

from __future__ import annotations

import numpy as np
import torch

from app.core.io.jpeg_tables import jpeg_quality_from_file
from app.core.metrics.psnr import psnr
from app.train.tasks.dejpeg import JpegArtifacts, forward, jpeg_roundtrip


def _clean() -> np.ndarray:
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    return np.stack([x / 64, y / 64, 0.5 + 0.4 * np.sin(x / 3) * np.cos(y / 5)], axis=2)


def test_degradation_is_jpeg_at_the_hinted_quality():
    deg = JpegArtifacts(high_p=0.0, recompress_p=0.0, jitter=0.0)
    lq, gt, info = deg(_clean(), np.random.default_rng(3))
    assert 10 <= info["q"] <= 60 and info["quality"] == info["q"] / 100
    assert np.array_equal(gt, _clean())
    u8 = np.round(_clean() * 255).astype(np.uint8)
    assert np.array_equal(lq, jpeg_roundtrip(u8, info["q"], info["subsampling"]).astype(np.float32) / 255)
    again = deg(_clean(), np.random.default_rng(3))[0]
    assert np.array_equal(lq, again)  # the rng is the only randomness


def test_lower_quality_is_worse_and_recompression_happens():
    u8 = np.round(_clean() * 255).astype(np.uint8)
    ref = u8.astype(np.float32) / 255
    assert psnr(jpeg_roundtrip(u8, 10).astype(np.float32) / 255, ref) < psnr(
        jpeg_roundtrip(u8, 60).astype(np.float32) / 255, ref)
    deg = JpegArtifacts(recompress_p=1.0)
    infos = [deg(_clean(), np.random.default_rng(s))[2] for s in range(6)]
    assert all(i["first"] is not None for i in infos)


def test_forward_feeds_the_quality_map(tmp_path):
    seen = {}

    def net(x):
        seen["x"] = x
        return x[:, :3]

    batch = {"lq": torch.rand(2, 3, 8, 8), "quality": torch.tensor([0.2, 0.9])}
    forward(net, batch)
    assert seen["x"].shape == (2, 4, 8, 8)
    assert torch.allclose(seen["x"][0, 3], torch.full((8, 8), 0.2)) and seen["x"][1, 3].min() == 0.9
    import cv2

    p = tmp_path / "q37.jpg"
    cv2.imwrite(str(p), np.zeros((16, 16, 3), np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 37])
    assert jpeg_quality_from_file(p) == 37


def test_config_catalog_and_net_agree_on_the_jpeg_grid():
    """Training crops start on the JPEG grid (multiples of 16: 4:2:0 MCUs), the app's tiles too, and the
    catalog builds the net the config trains (the exported weights must load into it)."""
    from app.core.models.registry import get_descriptor
    from app.core.nets.dejpeg import BLOCK
    from app.train.config import load_config
    from app.train.tasks.dejpeg import _model_kwargs

    cfg = load_config("dejpeg")
    desc = get_descriptor("dejpeg_fast")
    assert desc.config == _model_kwargs(cfg)
    assert cfg["data"]["patch"] % 16 == 0 and cfg["val"]["patch"] % 16 == 0
    assert desc.size_multiple % 16 == 0 and desc.overlap % 16 == 0 and 16 % BLOCK == 0
