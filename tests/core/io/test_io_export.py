"""Export: metadata round trips per format, atomic writes, inputs and existing outputs protected."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyexiv2
import pytest
import tifffile
from io_testdata import exif_bytes, pattern, save_pil
from PIL import Image as PILImage
from PIL import ImageCms

from app.core.image import ColorSpace, Image
from app.core.io import ExportError, develop, load_image, save_image
from app.core.io import export as export_mod
from app.core.io.icc import srgb_encode

FORMATS = {"jpg": ("out.jpg", 2 / 255), "png": ("out.png", 0.5 / 255), "png16": ("out16.png", 1e-5),
           "tiff": ("out.tif", 0.5 / 255), "tiff16": ("out16.tif", 1e-5)}  # fmt: skip
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def read_back(path: Path) -> tuple[dict[str, str], bytes]:
    with pyexiv2.Image(str(path)) as im:
        return im.read_exif(encoding="iso-8859-1"), im.read_icc()


@pytest.fixture()
def source(tmp_path: Path) -> Image:
    """A JPEG from a camera held sideways: EXIF orientation 6, make/model, XMP saying 6 too."""
    src = tmp_path / "src"
    src.mkdir()
    path = save_pil(src / "camera.jpg", pattern(60, 80), quality=95, exif=exif_bytes(6, "Acme", "Cam 7", 400))
    img = load_image(path)
    img.meta.xmp = XMP
    return img


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip_exif_icc_pixels(tmp_path: Path, source: Image, fmt: str) -> None:
    name, tol = FORMATS[fmt]
    out = save_image(source, tmp_path / name, format=fmt)
    tags, icc = read_back(out)
    assert tags["Exif.Image.Make"] == "Acme" and tags["Exif.Image.Model"] == "Cam 7"
    assert tags["Exif.Image.Orientation"] == "1"
    assert tags["Exif.Photo.ISOSpeedRatings"] == "400"
    assert tags["Exif.Photo.PixelXDimension"] == "60" and tags["Exif.Photo.PixelYDimension"] == "80"
    assert tags["Exif.Image.Software"].startswith("PhotoRestore")
    assert not any(k.startswith("Exif.Thumbnail") for k in tags)
    with PILImage.open(out) as im:  # a second, independent reader for the profile
        profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert icc == im.info["icc_profile"]
    back = load_image(out)
    assert back.data.shape == source.data.shape == (80, 60, 3)  # upright once, not rotated again
    assert back.meta.orientation == 1
    assert float(np.abs(back.data - source.data).mean()) <= tol
    assert back.meta.bit_depth == (16 if fmt.endswith("16") else 8)
    assert b'tiff:Orientation="1"' in (back.meta.xmp or b"")  # XMP would otherwise rotate it again


def test_sixteen_bit_outputs_keep_sixteen_bits(tmp_path: Path) -> None:
    ramp = np.linspace(0, 1, 4096, dtype=np.float32)
    img = Image(np.stack([ramp, ramp[::-1], ramp], -1)[None].repeat(4, 0))
    for fmt, name in (("png16", "r.png"), ("tiff16", "r.tif")):
        back = load_image(save_image(img, tmp_path / name, format=fmt))
        assert float(np.abs(back.data - img.data).max()) <= 0.5 / 65535 + 1e-7
    assert tifffile.imread(tmp_path / "r.tif").dtype == np.uint16


def test_tiff_is_uncompressed_unless_compress_is_asked(tmp_path: Path, source: Image) -> None:
    """Uncompressed by default (one contiguous write, issue 23's export time); deflate on request; same pixels,
    same metadata either way."""
    pages = {}
    for compress in (False, True):
        out = save_image(source, tmp_path / f"c{int(compress)}.tif", format="tiff16", compress=compress)
        with tifffile.TiffFile(out) as tf:
            page = tf.pages[0]
            pages[compress] = (page.compression, page.predictor, page.asarray())
        tags, icc = read_back(out)
        assert tags["Exif.Image.Make"] == "Acme" and icc
    assert pages[False][0] == tifffile.COMPRESSION.NONE
    assert pages[True][0] == tifffile.COMPRESSION.ADOBE_DEFLATE and pages[True][1] == tifffile.PREDICTOR.HORIZONTAL
    assert np.array_equal(pages[False][2], pages[True][2])


def test_raw_to_tiff16_carries_camera_exif(tmp_path: Path, raw_dir: Path) -> None:
    dev = develop(load_image(raw_dir / "bayer" / "rawpy-test_RAW_KODAK_DC50.KDC"))
    out = save_image(dev, tmp_path / "kodak.tif")  # .tif from a 16-bit development -> tiff16
    tags, icc = read_back(out)
    assert tags["Exif.Image.Make"] == "Eastman Kodak Company"
    assert tags["Exif.Image.Model"] == "Kodak Digital Science DC50 Zoom Camera"
    assert tags["Exif.Photo.ISOSpeedRatings"] == "84" and tags["Exif.Photo.FNumber"] == "62/10"
    assert tags["Exif.Image.Orientation"] == "1" and icc
    with tifffile.TiffFile(out) as tf:
        assert tf.pages[0].dtype == np.uint16 and tf.pages[0].shape == (512, 768, 3)


@pytest.mark.slow
def test_cr2_to_tiff16_carries_camera_exif(tmp_path: Path, raw_dir: Path) -> None:
    dev = load_image(raw_dir / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2", raw_as="srgb")
    tags, _ = read_back(save_image(dev, tmp_path / "canon.tif", format="tiff16"))
    assert (tags["Exif.Image.Make"], tags["Exif.Image.Model"]) == ("Canon", "Canon EOS 30D")
    assert tags["Exif.Photo.ISOSpeedRatings"] == "640" and tags["Exif.Photo.ExposureTime"] == "1/400"
    assert tags["Exif.Photo.PixelXDimension"] == "3522"


def test_failed_write_leaves_nothing(tmp_path: Path, source: Image, monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(tmp: Path, *args: object) -> None:
        tmp.write_bytes(b"\xff\xd8\xff partial")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(export_mod.WRITERS, "jpg", half_written)
    with pytest.raises(ExportError, match=r"^out\.jpg: could not write jpg \(RuntimeError: disk on fire\)$"):
        save_image(source, tmp_path / "out.jpg")
    assert [p.name for p in tmp_path.iterdir()] == ["src"]
    old = tmp_path / "keep.jpg"
    old.write_bytes(b"previous export")
    with pytest.raises(ExportError):
        save_image(source, old, overwrite=True)
    assert old.read_bytes() == b"previous export"  # replaced only by a complete file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jpg", "src"]


@pytest.mark.parametrize("compress", [False, True])
def test_encoder_failure_is_an_export_error(
    tmp_path: Path, source: Image, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # uncompressed: our TIFF writer; deflate: tifffile
    monkeypatch.setattr(*((export_mod.tifffile, "imwrite") if compress else (export_mod.T, "write_tiff")), disk_full)
    with pytest.raises(ExportError, match=r"^x\.tif: cannot write \(No space left on device\)$"):
        save_image(source, tmp_path / "x.tif", format="tiff16", compress=compress)
    assert [p.name for p in tmp_path.iterdir()] == ["src"]


def test_never_overwrites_an_input(tmp_path: Path, source: Image) -> None:
    src = Path(source.meta.source_path)
    before = src.read_bytes()
    for target in (src, src.parent / "." / src.name):
        with pytest.raises(ExportError, match="refusing to overwrite an input file"):
            save_image(source, target, overwrite=True)
    other = tmp_path / "input.png"
    other.write_bytes(b"x")
    with pytest.raises(ExportError, match="refusing to overwrite an input file"):
        save_image(source, other, overwrite=True, protect=[other])
    link = tmp_path / "link.jpg"
    os.symlink(src, link)
    with pytest.raises(ExportError, match="refusing to overwrite an input file"):
        save_image(source, link, overwrite=True)
    os.link(src, tmp_path / "hard.jpg")
    with pytest.raises(ExportError, match="refusing to overwrite an input file"):
        save_image(source, tmp_path / "hard.jpg", overwrite=True)
    assert src.read_bytes() == before and other.read_bytes() == b"x"


def test_existing_output_needs_overwrite(tmp_path: Path, source: Image) -> None:
    dest = tmp_path / "o.png"
    dest.write_bytes(b"old")
    with pytest.raises(ExportError, match=r"^o\.png: already exists \(use overwrite to replace it\)$"):
        save_image(source, dest)
    assert dest.read_bytes() == b"old"
    assert save_image(source, dest, overwrite=True) == dest
    assert load_image(dest).data.shape == (80, 60, 3)


def test_refusals_and_conversions(tmp_path: Path, source: Image) -> None:
    bayer = Image(np.zeros((4, 4, 1), np.float32), ColorSpace.BAYER)
    with pytest.raises(ExportError, match="develop"):
        save_image(bayer, tmp_path / "b.png")
    with pytest.raises(ExportError, match="output folder does not exist"):
        save_image(source, tmp_path / "missing" / "o.jpg")
    with pytest.raises(ExportError, match="cannot tell the format"):
        save_image(source, tmp_path / "o.bmp")
    with pytest.raises(ValueError, match="unknown export format"):
        save_image(source, tmp_path / "o.jpg", format="gif")
    with pytest.raises(ValueError, match="quality"):
        save_image(source, tmp_path / "o.jpg", quality=0)
    lin = Image(np.full((2, 3, 3), 0.2, np.float32), ColorSpace.LINEAR)
    back = load_image(save_image(lin, tmp_path / "lin.png"))
    np.testing.assert_allclose(back.data, srgb_encode(lin.data), atol=0.5 / 255 + 1e-6)


def test_strip_metadata_keeps_icc(tmp_path: Path, source: Image) -> None:
    tags, icc = read_back(save_image(source, tmp_path / "s.jpg", keep_metadata=False))
    assert "Exif.Image.Make" not in tags and icc


def test_jpeg_quality_and_permissions(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    img = Image(rng.random((64, 64, 3), dtype=np.float32))
    low = save_image(img, tmp_path / "low.jpg", quality=30)
    high = save_image(img, tmp_path / "high.jpg", quality=95)
    assert low.stat().st_size < high.stat().st_size
    if os.name == "posix":
        assert high.stat().st_mode & 0o044  # readable by others as umask allows, unlike mkstemp's 0600


def test_quantise_maps_nan_to_black_and_infinities_to_the_range() -> None:
    x = np.array([[[np.nan, np.inf, -np.inf], [0.5, 1.2, -0.1]]], np.float32)
    for bits, top in ((8, 255), (16, 65535)):
        q = export_mod.quantise(Image(x), bits, bgr=False)
        assert q.tolist() == [[[0, top, 0], [round(0.5 * top + 0.01), top, 0]]]
    assert np.isnan(x[0, 0, 0])  # the input is left as it was


def test_uncompressed_tiff_writes_the_same_exif_as_exiv2(tmp_path: Path, source: Image) -> None:
    """The uncompressed TIFF's EXIF, GPS and interoperability IFDs come from our writer in one pass; the
    deflated one's from exiv2 rewriting the file: every photo tag reads back the same, rationals exactly
    (62/10 stays 62/10), and the camera's resolution is kept by both."""
    from app.core.io import exif

    tags = {**exif.blob_to_tags(source.meta.exif), "Exif.Photo.FNumber": "62/10",
            "Exif.GPSInfo.GPSLatitudeRef": "N", "Exif.GPSInfo.GPSLatitude": "33/1 7/1 3681/100",
            "Exif.Iop.InteroperabilityIndex": "R98", "Exif.Image.XResolution": "300/1",
            "Exif.Image.YResolution": "300/1", "Exif.Image.ResolutionUnit": "2", "Exif.Image.Artist": "Ann \xd6"}
    source.meta.exif = exif.tags_to_blob(tags)
    back = {}
    for compress in (False, True):
        out = save_image(source, tmp_path / f"e{int(compress)}.tif", format="tiff16", compress=compress)
        # XMLPacket: exiv2 re-serialises the XMP packet (with padding); our writer keeps its bytes, as JPEG/PNG do
        layout = {"ExifTag", "GPSTag", "InteroperabilityTag", "RowsPerStrip", "Compression", "Predictor",
                  "StripByteCounts", "StripOffsets", "XMLPacket"}
        assert b'tiff:Orientation="1"' in (load_image(out).meta.xmp or b"")
        back[compress] = {k: v for k, v in read_back(out)[0].items() if k.split(".")[-1] not in layout}
    assert back[False] == back[True]
    got = back[False]
    assert got["Exif.Photo.FNumber"] == "62/10" and got["Exif.GPSInfo.GPSLatitude"] == "33/1 7/1 3681/100"
    assert got["Exif.Iop.InteroperabilityIndex"] == "R98" and got["Exif.Image.Artist"] == "Ann \xd6"
    assert (got["Exif.Image.XResolution"], got["Exif.Image.ResolutionUnit"]) == ("300/1", "2")
    assert got["Exif.Image.Make"] == "Acme" and got["Exif.Image.Orientation"] == "1"
