"""compare() and analyze(): the dicts behind `photorestore compare` / `photorestore analyze`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image as PILImage

from app.core.metrics.compare import analyze, compare, format_analyze, format_compare
from app.core.metrics.jpeg_quality import jpeg_quality_from_file


def _u8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def test_identical_and_different(val_photo):
    d = compare(val_photo, val_photo)
    assert d["psnr"] is None and d["ssim"] == pytest.approx(1.0) and d["max_abs_diff"] == 0
    noisy = np.clip(val_photo + 0.02, 0, 1)
    d = compare(noisy, val_photo)
    assert 25 < d["psnr"] < 40 and d["ssim"] < 1.0 and d["niqe_a"] is not None
    assert "PSNR" in format_compare(d) and "NIQE" in format_compare(d)
    json.dumps(d)


def test_size_mismatch_is_a_clear_error(val_photo):
    with pytest.raises(ValueError, match=r"sizes differ: A is 320x320, B is 300x320"):
        compare(val_photo, val_photo[:, :300])


def test_paths_uint8_and_grey(tmp_path, val_photo):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    PILImage.fromarray(_u8(val_photo)).save(a)
    PILImage.fromarray(_u8(val_photo[..., ::-1])).save(b)
    from_paths = compare(a, b, with_niqe=False)
    from_arrays = compare(_u8(val_photo), _u8(val_photo[..., ::-1]), with_niqe=False)
    assert from_paths["psnr"] == pytest.approx(from_arrays["psnr"], abs=1e-6)
    grey = compare(_u8(val_photo)[..., 0], _u8(val_photo)[..., 0], with_niqe=False)
    assert grey["psnr"] is None


def test_jpeg_quality_from_tables(tmp_path, val_photo):
    for q in (35, 60, 90):
        p = tmp_path / f"q{q}.jpg"
        PILImage.fromarray(_u8(val_photo)).save(p, quality=q)
        assert jpeg_quality_from_file(p) == pytest.approx(q, abs=1)
    png = tmp_path / "x.png"
    PILImage.fromarray(_u8(val_photo)).save(png)
    assert jpeg_quality_from_file(png) is None


def test_analyze_a_jpeg_file(tmp_path, val_photo):
    p = tmp_path / "low.jpg"
    PILImage.fromarray(_u8(val_photo)).save(p, quality=20)
    r = analyze(p)
    json.dumps(r)
    assert r["analysis"]["jpeg"]["quality"] == pytest.approx(20, abs=1)
    assert any("JPEG" in f for f in r["analysis"]["findings"])
    text = format_analyze(r)
    assert "low.jpg" in text and "Auto recipe" in text and "NIQE" in text and "Denoiser" in text
    from app.core.models.registry import model_state

    if model_state("cycleisp_srgb_denoise").ok:  # the sRGB denoiser's noise reading (issue 27)
        assert r["denoiser_noise"]["luma255"] >= 0 and "grain" in text.split("Denoiser")[1]
    else:
        assert r["denoiser_noise"] is None and "n/a" in text.split("Denoiser")[1]
