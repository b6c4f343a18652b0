"""RAW decode: real camera files, unsupported RAWs, CFA normalisation, DNG noise profile, previews."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rawpy
from io_testdata import write_dng

from app.core.image import ColorSpace
from app.core.io import (
    DecodeError,
    ImageIOError,
    NotBayerError,
    UnsupportedFormatError,
    load_image,
    load_preview,
    read_metadata,
)
from app.core.io.raw import _CELL_OFFSET, normalise_mosaic

CR2 = "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
BAYER_FILES = {
    CR2: dict(model="Canon EOS 30D", make="Canon", cfa="RGGB", iso=640, black=128, white=4095),
    "imageio-test_images_Blackmagic_Pocket_Cinema_4K.dng": dict(
        model="Blackmagic Pocket Cinema Camera 4K", cfa="RGGB", black=512, white=65535
    ),
    "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng": dict(
        model="Canon EOS Kiss X4", make="Canon", cfa="RGGB", black=2056, white=15000
    ),
    "rawpy-test_RAW_KODAK_DC50.KDC": dict(
        model="Kodak Digital Science DC50 Zoom Camera", cfa="GRBG", iso=84, black=0, white=16383
    ),
}


@pytest.mark.parametrize("name", sorted(BAYER_FILES))
def test_every_bayer_raw_decodes(raw_dir: Path, name: str) -> None:
    want = BAYER_FILES[name]
    img = load_image(raw_dir / "bayer" / name)
    assert img.space is ColorSpace.BAYER and img.channels == 1
    assert img.height % 2 == 0 and img.width % 2 == 0 and img.height >= 500
    assert img.data.dtype == np.float32
    assert 0.0 <= float(img.data.min()) and float(img.data.max()) <= 1.0
    assert float(img.data.std()) > 0.01  # real content, not a constant
    info = img.raw
    assert info is not None
    assert info.cfa_pattern == want["cfa"]
    assert info.crop_offset == _CELL_OFFSET[want["cfa"]]
    assert info.white_level == want["white"]
    assert min(info.black_level) >= want["black"] - 1 and max(info.black_level) <= want["black"]
    assert info.camera_wb[1] == 1.0 and all(v > 0 for v in info.camera_wb)
    assert info.sensor_size[0] >= img.height and info.sensor_size[1] >= img.width
    assert Path(info.path).is_file()
    assert img.meta.camera_model == want["model"]
    assert img.meta.camera_make == want.get("make", img.meta.camera_make)
    if "iso" in want:
        assert img.meta.iso == want["iso"]
    assert img.meta.format.startswith("raw:")
    assert img.meta.source_path and img.meta.exif  # an EXIF block was built from the RAW's tags
    assert 12 <= img.meta.bit_depth <= 16


def test_cr2_shooting_metadata(raw_dir: Path) -> None:
    meta = load_image(raw_dir / "bayer" / CR2).meta
    assert meta.exposure_time == pytest.approx(1 / 400)
    assert meta.f_number == 22 and meta.focal_length == 22
    assert meta.datetime == "2009:07:21 13:03:20"
    assert "18-55" in meta.lens
    assert meta.orientation == 1


def test_gpr_is_rejected_as_unsupported_by_libraw(raw_dir: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="not supported by LibRaw") as exc:
        load_image(raw_dir / "unsupported" / "gopro-gpr_Hero6_GOPR0024.GPR")
    assert str(exc.value).startswith("gopro-gpr_Hero6_GOPR0024.GPR: ")


def test_linear_dng_is_not_bayer_but_opens_developed(raw_dir: Path) -> None:
    path = raw_dir / "unsupported" / "photoprism_Canon_EOS_6D_linearDNG.dng"
    with pytest.raises(NotBayerError, match="linear DNG: already demosaiced, not a Bayer mosaic"):
        load_image(path)
    img = load_image(path, raw_as="srgb")
    assert img.space is ColorSpace.SRGB and img.data.shape == (816, 1224, 3)
    assert 0.05 < float(img.data.mean()) < 0.6
    assert img.meta.camera_model == "Canon EOS 6D" and img.meta.iso == 1000
    assert "linear DNG" in img.meta.extra["notes"][0]
    assert load_image(path, raw_as="auto").space is ColorSpace.SRGB


def test_scanner_nef_is_not_bayer_and_opens_as_rendered_scan(raw_dir: Path) -> None:
    path = raw_dir / "unsupported" / "imageio-test_images_Nikon_COOLSCAN_IV_scanner.nef"
    with pytest.raises(NotBayerError, match="RGB scan .* not a camera Bayer mosaic"):
        load_image(path)
    img = load_image(path, raw_as="srgb")
    assert img.data.shape == (593, 869, 3)
    # LibRaw's own development clips nearly everything to white; the scan taken as is does not.
    assert 0.2 < float(img.data.mean()) < 0.7 and float((img.data >= 0.999).mean()) < 0.01
    assert img.meta.bit_depth == 8


def test_unknown_raw_variant_and_corrupt_raw(tmp_path: Path, raw_dir: Path) -> None:
    data = (raw_dir / "bayer" / CR2).read_bytes()
    head = tmp_path / "head.CR2"
    head.write_bytes(data[:20000])  # header only: LibRaw cannot even identify the file
    with pytest.raises(ImageIOError, match=r"^head\.CR2: .*LibRaw"):
        load_image(head)
    junk = tmp_path / "junk.nef"
    junk.write_bytes(b"\x00\x01" * 5000)
    with pytest.raises(UnsupportedFormatError, match=r"^junk\.nef: this file is not supported by LibRaw"):
        load_image(junk)
    cut = tmp_path / "cut.CR2"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DecodeError, match=r"^cut\.CR2: truncated or unreadable RAW file \(LibRaw: "):
        load_image(cut)
    bad = bytearray(data)
    bad[len(bad) // 2 : len(bad) // 2 + 100_000] = b"\xff" * 100_000
    (tmp_path / "bad.CR2").write_bytes(bytes(bad))
    with pytest.raises(DecodeError, match=r"^bad\.CR2: corrupt RAW data"):
        load_image(tmp_path / "bad.CR2")


def simulate_layout(rggb: np.ndarray, layout: str) -> np.ndarray:
    """Crop an RGGB mosaic by one row and/or column so that it starts with ``layout``'s cell."""
    dy, dx = _CELL_OFFSET[layout]
    return rggb[dy:, dx:]


@pytest.mark.parametrize("layout", ["RGGB", "GRBG", "GBRG", "BGGR"])
def test_cfa_normalisation_recovers_rggb_planes(raw_dir: Path, layout: str) -> None:
    with rawpy.imread(str(raw_dir / "bayer" / CR2)) as rp:
        sensor = rp.raw_image_visible[:400, :600].copy()
    black = (128.0, 129.0, 127.0, 130.0)  # distinct per cell so a wrong alignment shows
    reference = normalise_mosaic(sensor, (0, 0), black, 4095.0)
    shifted = simulate_layout(sensor, layout)
    dy, dx = _CELL_OFFSET[layout]
    out = normalise_mosaic(shifted, (dy, dx), black, 4095.0)
    # The simulated layout lost dy rows / dx columns, the offset drops as many again: same R G / G B cells.
    expected = reference[2 * dy :, 2 * dx :][: out.shape[0], : out.shape[1]]
    assert out.shape[0] % 2 == 0 and out.shape[1] % 2 == 0
    assert out.shape[0] >= 396 and out.shape[1] >= 596
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("layout", ["RGGB", "GRBG", "GBRG", "BGGR"])
def test_cfa_layouts_through_libraw(tmp_path: Path, raw_dir: Path, layout: str) -> None:
    """The same cropped real mosaic, written as a DNG declaring its layout, decodes to identical planes."""
    with rawpy.imread(str(raw_dir / "bayer" / CR2)) as rp:
        sensor = rp.raw_image_visible[:202, :302].astype(np.uint16) * 4
    dy, dx = _CELL_OFFSET[layout]
    path = write_dng(tmp_path / f"{layout}.dng", sensor[dy:, dx:], cfa=layout, black=512, white=16383)
    img = load_image(path)
    assert img.raw.cfa_pattern == layout and img.raw.crop_offset == (dy, dx)
    expected = normalise_mosaic(sensor, (0, 0), (512.0,) * 4, 16383.0)[2 * dy :, 2 * dx :]
    np.testing.assert_array_equal(img.data[:, :, 0], expected[: img.height, : img.width])


def test_dng_noise_profile_and_orientation(tmp_path: Path) -> None:
    mosaic = np.full((64, 96), 2000, np.uint16)
    path = write_dng(tmp_path / "np.dng", mosaic, orientation=6, noise_profile=(2e-4, 3e-6, 2.1e-4, 3.1e-6))
    img = load_image(path)
    assert img.raw.noise_profile == ((2e-4, 3e-6), (2.1e-4, 3.1e-6))
    assert img.meta.orientation == 6  # kept for develop(); the mosaic stays in sensor orientation
    assert img.data.shape == (64, 96, 1)
    np.testing.assert_allclose(img.data, (2000 - 512) / (16383 - 512), rtol=1e-6)
    assert read_metadata(path).extra["noise_profile"] == ((2e-4, 3e-6), (2.1e-4, 3.1e-6))


def test_real_raws_have_no_noise_profile(raw_dir: Path) -> None:
    assert load_image(raw_dir / "bayer" / "rawpy-test_RAW_KODAK_DC50.KDC").raw.noise_profile is None


def test_raw_preview_uses_embedded_jpeg(raw_dir: Path) -> None:
    img = load_preview(raw_dir / "bayer" / CR2, max_side=800)
    assert img.space is ColorSpace.SRGB and max(img.data.shape[:2]) == 800
    assert img.meta.extra["preview_source"] == "embedded preview"
    assert img.meta.extra["full_size"] == (2348, 3522)
    assert img.meta.camera_model == "Canon EOS 30D"
    assert 0.2 < float(img.data.mean()) < 0.8


def test_raw_preview_without_thumbnail_develops_half_size(raw_dir: Path) -> None:
    img = load_preview(raw_dir / "bayer" / "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng", 400)
    assert img.meta.extra["preview_source"] == "half-size development"
    assert max(img.data.shape[:2]) == 400 and img.data.shape[2] == 3


def test_read_metadata_raw(raw_dir: Path) -> None:
    meta = read_metadata(raw_dir / "bayer" / CR2)
    assert (meta.camera_make, meta.camera_model, meta.iso) == ("Canon", "Canon EOS 30D", 640)
    assert meta.extra["full_size"] == (2348, 3522)
