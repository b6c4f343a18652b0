"""Raster decode: orientation applied once, ICC to sRGB, bit depths, grey/CMYK/alpha, previews."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from io_testdata import ADOBE_RGB, DISPLAY_P3, exif_bytes, matrix_profile, pattern, save_pil
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps

from app.core.image import ColorSpace
from app.core.io import load_image, load_preview, read_metadata

SRGB = ImageCms.createProfile("sRGB")


def pil_upright(path: Path) -> np.ndarray:
    """Independent reference: Pillow's decode + its own EXIF transpose, as float RGB."""
    with PILImage.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"), np.float32) / 255


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_orientation_applied_once(tmp_path: Path, orientation: int) -> None:
    path = save_pil(tmp_path / f"o{orientation}.jpg", pattern(), quality=95, exif=exif_bytes(orientation))
    img = load_image(path)
    ref = pil_upright(path)
    assert img.data.shape == ref.shape
    assert float(np.abs(img.data - ref).mean()) < 2 / 255
    assert img.meta.orientation == orientation
    unrotated = np.asarray(PILImage.open(path).convert("RGB"), np.float32) / 255
    if unrotated.shape == img.data.shape:  # 180 degrees: same shape, so make sure it really turned
        assert float(np.abs(img.data - unrotated).mean()) > 20 / 255


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_every_orientation_exact(tmp_path: Path, orientation: int) -> None:
    path = save_pil(tmp_path / "o.png", pattern(), exif=exif_bytes(orientation))
    np.testing.assert_array_equal(load_image(path).data, pil_upright(path))


@pytest.mark.parametrize("writer", ["tifffile", "pillow-lzw", "webp"])
def test_orientation_once_for_tiff_and_webp(tmp_path: Path, writer: str) -> None:
    rgb = pattern()
    if writer == "tifffile":  # uncompressed: decoded by tifffile, we rotate
        path = tmp_path / "o.tif"
        tifffile.imwrite(path, rgb, photometric="rgb", extratags=[(274, "H", 1, 6, True)], metadata=None)
    elif writer == "pillow-lzw":  # LZW: decoded by OpenCV's libtiff, which rotates on its own
        path = save_pil(tmp_path / "o.tif", rgb, tiffinfo={274: 6}, compression="tiff_lzw")
    else:
        path = save_pil(tmp_path / "o.webp", rgb, lossless=True, exif=exif_bytes(6))
    img = load_image(path)
    np.testing.assert_allclose(img.data, np.rot90(rgb, -1).astype(np.float32) / 255, atol=1e-6)


def test_jpeg_with_wide_gamut_icc_matches_littlecms(tmp_path: Path) -> None:
    profile = matrix_profile(ADOBE_RGB, 2.2, "Adobe RGB-like")
    rng = np.random.default_rng(0)
    rgb = cv2.resize(
        rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (160, 120), interpolation=cv2.INTER_CUBIC
    )
    path = save_pil(
        tmp_path / "wide.jpg", rgb, quality=95, icc_profile=profile, exif=exif_bytes(1, "Acme", "W1")
    )
    img = load_image(path)
    with PILImage.open(path) as im:
        ref = ImageCms.profileToProfile(
            im, ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode="RGB"
        )
        untouched = np.asarray(im, np.float32) / 255
    ref = np.asarray(ref, np.float32) / 255
    err = np.abs(img.data - ref)
    assert float(err.mean()) < 1 / 255 and float(np.percentile(err, 99.9)) < 3 / 255
    assert float(np.abs(img.data - untouched).mean()) > 5 / 255  # the conversion did something
    assert img.meta.icc_profile == profile
    assert (img.meta.camera_make, img.meta.camera_model) == ("Acme", "W1")


def test_16bit_tiff_with_p3_profile_keeps_precision(tmp_path: Path) -> None:
    profile = matrix_profile(DISPLAY_P3, 1.8, "P3-like")
    ramp = np.linspace(0, 65535, 1024).astype(np.uint16)
    rgb16 = np.stack([ramp, ramp[::-1], np.full_like(ramp, 30000)], -1)[None].repeat(8, 0)
    path = tmp_path / "p3.tif"
    tifffile.imwrite(path, rgb16, photometric="rgb", iccprofile=profile, metadata=None)
    img = load_image(path)
    assert img.meta.bit_depth == 16 and img.meta.icc_profile == profile
    ref8 = ImageCms.profileToProfile(
        PILImage.fromarray((rgb16 >> 8).astype(np.uint8)), ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB
    )
    # LittleCMS only takes 8-bit input here; quantising it shifts dark, out-of-gamut outputs a few levels.
    err = np.abs(img.data - np.asarray(ref8, np.float32) / 255)
    assert float(err.mean()) < 1 / 255 and float(np.percentile(err, 99)) < 3 / 255
    assert len(np.unique(img.data[0, :, 1])) > 512  # an 8-bit path could give at most 256 levels


def test_grey_png_with_grey_profile(tmp_path: Path) -> None:
    grey = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    profile = matrix_profile(ADOBE_RGB, 1.8, "grey 1.8", gray=True)
    path = save_pil(tmp_path / "g.png", grey, icc_profile=profile)
    img = load_image(path)
    ref = ImageCms.profileToProfile(
        PILImage.open(path), ImageCms.ImageCmsProfile(io.BytesIO(profile)), SRGB, outputMode="RGB"
    )
    assert float(np.abs(img.data - np.asarray(ref, np.float32) / 255).max()) < 2 / 255
    assert np.all(img.data[..., 0] == img.data[..., 2])


def test_srgb_profile_is_not_reconverted(tmp_path: Path) -> None:
    srgb_bytes = ImageCms.ImageCmsProfile(SRGB).tobytes()
    path = save_pil(tmp_path / "s.png", pattern(), icc_profile=srgb_bytes)
    np.testing.assert_array_equal(load_image(path).data, pattern().astype(np.float32) / 255)


def test_embedded_srgb_profile_is_the_same_bytes_every_time() -> None:
    """LittleCMS dates the profile it builds; ours carries a fixed date, so exports of one photo made at
    different times (a batch's local and cluster runs) are the same bytes. Everything else is LittleCMS'."""
    import struct

    from app.core.io import icc

    ours = icc.srgb_profile()
    fresh = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert struct.unpack(">6H", ours[24:36]) == icc.PROFILE_DATE
    assert len(ours) == len(fresh) and ours[:24] == fresh[:24] and ours[100:] == fresh[100:]
    loaded = ImageCms.ImageCmsProfile(io.BytesIO(ours))  # still a valid profile
    assert "sRGB" in ImageCms.getProfileDescription(loaded)


def test_16bit_png_precision_and_grey(tmp_path: Path) -> None:
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    rgb = np.stack([ramp, ramp.T, 65535 - ramp], -1)
    cv2.imwrite(str(tmp_path / "c16.png"), rgb[:, :, ::-1])
    img = load_image(tmp_path / "c16.png")
    assert img.meta.bit_depth == 16
    np.testing.assert_array_equal(np.rint(img.data * 65535).astype(np.uint16), rgb)
    cv2.imwrite(str(tmp_path / "g16.png"), ramp)
    grey = load_image(tmp_path / "g16.png")
    assert grey.data.shape == (256, 256, 3) and grey.meta.bit_depth == 16
    np.testing.assert_array_equal(np.rint(grey.data[..., 1] * 65535).astype(np.uint16), ramp)


def test_cmyk_jpeg_converted_to_rgb(tmp_path: Path) -> None:
    rgb = pattern()
    path = tmp_path / "cmyk.jpg"
    PILImage.fromarray(rgb).convert("CMYK").save(path, "JPEG", quality=95)
    with PILImage.open(path) as im:
        assert im.mode == "CMYK"
    img = load_image(path)
    assert img.data.shape == (48, 64, 3)
    np.testing.assert_allclose(img.data[2, 2], (1, 0, 0), atol=0.05)  # red patch stays red
    assert float(np.abs(img.data - rgb / 255).mean()) < 0.05
    assert any("CMYK" in n for n in img.meta.extra["notes"])


def test_alpha_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[:4, :, 3] = 0
    rgba[4:6, :, 3] = 128
    img = load_image(save_pil(tmp_path / "a.png", rgba))
    np.testing.assert_allclose(img.data[0, 0], (1, 1, 1))
    np.testing.assert_allclose(img.data[7, 0], (200 / 255, 0, 0), atol=1e-6)
    a = 128 / 255
    np.testing.assert_allclose(img.data[5, 0], (200 / 255 * a + 1 - a, 1 - a, 1 - a), atol=1e-6)
    assert "transparent areas composited on white" in img.meta.extra["notes"]


def test_one_pixel_images(tmp_path: Path) -> None:
    for name in ("one.png", "one.jpg"):
        img = load_image(save_pil(tmp_path / name, np.full((1, 1, 3), 90, np.uint8)))
        assert img.data.shape == (1, 1, 3) and abs(float(img.data.mean()) - 90 / 255) < 2 / 255


def test_bmp_and_lossy_webp(tmp_path: Path) -> None:
    rgb = pattern()
    np.testing.assert_array_equal(load_image(save_pil(tmp_path / "p.bmp", rgb)).data, rgb / np.float32(255))
    webp = load_image(save_pil(tmp_path / "p.webp", rgb, quality=90))
    assert webp.meta.format == "webp" and float(np.abs(webp.data - rgb / 255).mean()) < 0.03


def test_preview_is_reduced_and_upright(tmp_path: Path) -> None:
    big = cv2.resize(pattern(), (2000, 1500), interpolation=cv2.INTER_LINEAR)
    path = save_pil(tmp_path / "big.jpg", big, quality=90, exif=exif_bytes(6))
    img = load_preview(path, max_side=400)
    assert img.data.shape == (400, 300, 3)
    assert img.meta.extra["preview"] and img.meta.extra["full_size"] == (2000, 1500)
    full = load_image(path)
    small = cv2.resize(full.data, (300, 400), interpolation=cv2.INTER_AREA)
    assert float(np.abs(img.data - small).mean()) < 3 / 255


def test_read_metadata_without_decoding(tmp_path: Path) -> None:
    path = save_pil(tmp_path / "m.jpg", pattern(), exif=exif_bytes(8, "Maker", "Model 9", iso=800))
    meta = read_metadata(path)
    assert (meta.camera_make, meta.camera_model, meta.iso, meta.orientation) == ("Maker", "Model 9", 800, 8)
    assert meta.exposure_time == pytest.approx(1 / 250)
    assert meta.extra["full_size"] == (64, 48)
    assert load_image(path).space is ColorSpace.SRGB


def test_grey_jpeg_preview_stays_grey_with_its_profile(tmp_path: Path) -> None:
    grey = np.tile(np.linspace(0, 255, 1000).astype(np.uint8), (800, 1))
    profile = matrix_profile(ADOBE_RGB, 1.8, "grey 1.8", gray=True)
    path = save_pil(tmp_path / "g.jpg", grey, quality=95, icc_profile=profile)
    small = load_preview(path, max_side=200)
    assert small.data.shape == (160, 200, 3)
    assert "notes" not in small.meta.extra  # the grey profile applied, not rejected as mismatched
    full = cv2.resize(load_image(path).data, (200, 160), interpolation=cv2.INTER_AREA)
    assert float(np.abs(small.data - full).mean()) < 2 / 255
