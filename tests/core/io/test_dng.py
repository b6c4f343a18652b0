"""DNG export: written by our own TIFF writer, read back by LibRaw (rawpy), tifffile and exiftool.

The cheap checks run on the two small real RAWs (Kodak DC50 KDC: GRBG; Canon 550D Magic Lantern DNG:
RGGB); all four files, RAW denoising and the RAW developers are in test_dng_clients.py (slow).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rawpy
import tifffile

from app.core.image import ColorSpace
from app.core.io import ExportError, load_image, save_image
from app.core.io import tiff_ifd as T
from app.core.pipeline import Pipeline, Step

REPO = Path(__file__).resolve().parents[3]
KDC = "rawpy-test_RAW_KODAK_DC50.KDC"
ML = "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng"
CR2 = "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def _bench():
    spec = importlib.util.spec_from_file_location("dng_roundtrip", REPO / "bench" / "dng_roundtrip.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bench = _bench()


@pytest.fixture(scope="module")
def bayer(raw_dir: Path) -> Path:
    return raw_dir / "bayer"


@pytest.mark.parametrize("tile", [None, 64])
def test_tiff_writer_round_trips_pixels_and_typed_tags(tmp_path: Path, tile: int | None) -> None:
    px = np.random.default_rng(0).integers(0, 65535, (100, 130), dtype=np.uint16)
    entries = [T.Entry(271, T.ASCII, "Maker"), T.Entry(50721, T.SRATIONAL, (0.5, -0.25, 1.0)),
               T.Entry(51041, T.DOUBLE, (1e-4, 2e-6))]  # fmt: skip
    exif = [T.Entry(33434, T.RATIONAL, (0.0025,)), T.Entry(34855, T.SHORT, (640,))]
    with open(tmp_path / "t.tif", "wb") as fh:
        T.write_tiff(fh, px, entries, {T.EXIF_IFD: exif, T.GPS_IFD: []}, tile=tile)
    with tifffile.TiffFile(tmp_path / "t.tif") as tf:
        page = tf.pages[0]
        assert np.array_equal(page.asarray(), px)
        assert page.tags["Make"].value == "Maker"
        assert page.is_tiled == (tile is not None)
        assert page.tags["ExifTag"].value["ISOSpeedRatings"] == 640
    ifds = T.read_ifds((tmp_path / "t.tif").read_bytes())
    got = {e.tag: e for e in ifds[0]}
    assert [float(v) for v in got[50721].value] == [0.5, -0.25, 1.0]
    assert got[51041].value == (1e-4, 2e-6)
    assert float(next(e for e in ifds[T.EXIF_IFD] if e.tag == 33434).value[0]) == 0.0025
    assert T.GPS_IFD not in ifds  # an empty sub-IFD is left out


@pytest.mark.parametrize("name", [KDC, ML])
def test_noop_cfa_dng_reads_back_as_the_source(bayer: Path, tmp_path: Path, name: str) -> None:
    src = bayer / name
    out = save_image(load_image(src), tmp_path / "x.dng", format="dng")
    checks = bench.libraw_readback(src, out, mosaic=True)
    assert checks == {"pattern": True, "black": True, "white": True, "wb": True, "mosaic_equal": True,
                      "matrix": True}  # fmt: skip
    assert bench.psnr(bench.libraw_develop(src), bench.libraw_develop(out), 65535) >= 50
    with tifffile.TiffFile(out) as tf:
        tags = tf.pages[0].tags
        assert bytes(tags["DNGVersion"].value) == b"\x01\x04\x00\x00"
        assert tags["PhotometricInterpretation"].value == 32803
        assert tags["Compression"].value == 7 and tf.pages[0].is_tiled  # lossless-JPEG tiles
        assert "NoiseProfile" not in tags  # the source has none and nothing changed: none is made up


@pytest.mark.parametrize("shape", [(64, 64), (32, 48, 3)])
def test_lossless_jpeg_tiles_decode_exactly_in_libraw(tmp_path: Path, shape: tuple[int, ...]) -> None:
    """Edge values (0, 65535, alternating extremes: category-16 differences) survive LibRaw's decoder."""
    from app.core.io import ljpeg

    rng = np.random.default_rng(1)
    px = rng.integers(0, 65536, shape, dtype=np.uint16)
    edge = np.array([0, 65535, 0, 65535, 32768, 0, 1, 65534], np.uint16)
    px[0, :8] = edge if len(shape) == 2 else edge[:, None]
    cfa = len(shape) == 2
    tags = [T.Entry(254, T.LONG, (0,)), T.Entry(262, T.SHORT, (32803 if cfa else 34892,)),
            T.Entry(271, T.ASCII, "Test"), T.Entry(272, T.ASCII, "Cam"), T.Entry(50708, T.ASCII, "Test Cam"),
            T.Entry(50706, T.BYTE, bytes((1, 4, 0, 0))), T.Entry(50717, T.LONG, (65535,)),
            T.Entry(50721, T.SRATIONAL, (1, 0, 0, 0, 1, 0, 0, 0, 1)), T.Entry(50728, T.RATIONAL, (1, 1, 1))]
    if cfa:
        tags += [T.Entry(33421, T.SHORT, (2, 2)), T.Entry(33422, T.BYTE, bytes((0, 1, 1, 2)))]
    with open(tmp_path / "t.dng", "wb") as fh:
        T.write_tiff(fh, px, tags, {}, tile=16, compress=(7, ljpeg.encode))
    with rawpy.imread(str(tmp_path / "t.dng")) as raw:
        got = raw.raw_image if cfa else raw.raw_image[:, :, :3]
        assert np.array_equal(got, px)


def test_changed_samples_are_written_in_sensor_units(bayer: Path, tmp_path: Path) -> None:
    image = load_image(bayer / ML)
    image.data[100:110, 200:210] = 0.5  # an "op" that changed one block
    out = save_image(image, tmp_path / "x.dng", format="dng")
    with rawpy.imread(str(bayer / ML)) as a, rawpy.imread(str(out)) as b:
        va, vb = a.raw_image_visible.astype(int), b.raw_image_visible.astype(int)
    assert np.all(vb[100:110, 200:210] == round(0.5 * (15000 - 2056) + 2056))
    vb[100:110, 200:210] = va[100:110, 200:210]
    assert np.array_equal(va, vb)  # everything else bit-exact


def test_noise_profile_describes_the_noise_of_the_written_mosaic(bayer: Path, tmp_path: Path) -> None:
    from app.core.workflow.export import with_measured_noise

    image = load_image(bayer / ML)
    noisy = load_image(bayer / ML)
    rng = np.random.default_rng(0)
    noisy.data[:] = np.clip(noisy.data + rng.normal(0, 0.02, noisy.data.shape).astype(np.float32), 0, 1)
    out = save_image(with_measured_noise(image, noisy), tmp_path / "x.dng", format="dng")
    with tifffile.TiffFile(out) as tf:
        shot, read = tf.pages[0].tags["NoiseProfile"].value
    assert 0.5 * 0.02**2 < read + 0.1 * shot < 2 * 0.02**2  # ~ the added variance (plus the sensor's own)
    plain = save_image(load_image(bayer / ML), tmp_path / "y.dng", format="dng")  # unchanged: no profile
    with tifffile.TiffFile(plain) as tf:
        assert "NoiseProfile" not in tf.pages[0].tags


def test_sRGB_op_gives_a_linear_dng_that_develops_like_the_result(bayer: Path, tmp_path: Path) -> None:
    image = load_image(bayer / KDC)
    result = Pipeline().run(image, [Step.make("exposure", ev=0.3)], use_cache=False, develop=False)
    assert result.space is ColorSpace.SRGB
    out = save_image(result, tmp_path / "x.dng", format="dng")
    with rawpy.imread(str(out)) as raw:
        assert raw.raw_type == rawpy.RawType.Stack  # demosaiced data: LinearRaw
    assert bench.psnr(np.rint(result.data * 65535), bench.libraw_develop(out), 65535) >= 45
    with tifffile.TiffFile(out) as tf:
        assert tf.pages[0].tags["PhotometricInterpretation"].value == 34892


def test_pipeline_keeps_the_mosaic_only_when_asked(bayer: Path) -> None:
    image = load_image(bayer / KDC)
    assert Pipeline().run(image, [], use_cache=False, develop=False).space is ColorSpace.BAYER
    assert Pipeline().run(image, [], use_cache=False).space is ColorSpace.SRGB


def test_non_raw_input_is_refused_and_nothing_written(tmp_path: Path, datasets_dir: Path) -> None:
    jpg = next((datasets_dir / "noise" / "polyu" / "cropped_512").glob("*.JPG"))
    with pytest.raises(ExportError, match="DNG export needs a RAW photo"):
        save_image(load_image(jpg), tmp_path / "x.dng", format="dng")
    assert list(tmp_path.iterdir()) == []


def test_strip_metadata_keeps_camera_identity_only(bayer: Path, tmp_path: Path) -> None:
    out = save_image(load_image(bayer / KDC), tmp_path / "x.dng", format="dng", keep_metadata=False)
    with tifffile.TiffFile(out) as tf:
        tags = tf.pages[0].tags
        assert tags["Make"].value == "Eastman Kodak Company"  # RAW developers key camera profiles on it
        assert "ExifTag" not in tags


@pytest.mark.skipif(not shutil.which("exiftool"), reason="exiftool (libimage-exiftool-perl) not installed")
def test_exiftool_shows_camera_lens_iso_exposure_and_date(bayer: Path, tmp_path: Path) -> None:
    src = bayer / CR2
    out = save_image(load_image(src), tmp_path / "x.dng", format="dng")
    want, got = bench.exif_fields(src), bench.exif_fields(out)
    assert {"Make", "Model", "LensModel", "ISO", "ExposureTime", "DateTimeOriginal"} <= set(want)
    assert {k: got.get(k) for k in want} == want
    res = subprocess.run(["exiftool", "-validate", "-warning", "-a", str(out)], capture_output=True, text=True)
    assert "Error" not in res.stdout, res.stdout


def test_gps_is_carried_when_present(bayer: Path, tmp_path: Path) -> None:
    from app.core.io import exif

    image = load_image(bayer / KDC)
    tags = exif.blob_to_tags(image.meta.exif)
    tags.update({"Exif.GPSInfo.GPSLatitudeRef": "N", "Exif.GPSInfo.GPSLatitude": "48/1 51/1 30/1"})
    image.meta.exif = exif.tags_to_blob(tags)
    out = save_image(image, tmp_path / "x.dng", format="dng")
    with tifffile.TiffFile(out) as tf:
        gps = tf.pages[0].tags["GPSTag"].value
    assert gps["GPSLatitudeRef"] == "N" and tuple(gps["GPSLatitude"]) == (48, 1, 51, 1, 30, 1)


def test_cli_dng(bayer: Path, tmp_path: Path, datasets_dir: Path) -> None:
    jpg = next((datasets_dir / "noise" / "polyu" / "cropped_512").glob("*.JPG"))
    cmd = [sys.executable, "-m", "app", "run", str(bayer / KDC), str(jpg), "-o", str(tmp_path), "--format", "dng"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1  # one of two inputs failed
    assert f"{bayer / KDC}".split("/")[-1] in res.stdout and "(CFA DNG" in res.stdout
    errors = [ln for ln in res.stderr.splitlines() if jpg.name in ln]
    assert errors == [f"{jpg.name}: error: DNG export needs a RAW photo, this is a JPEG image"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photorestore-batch.json", "rawpy-test_RAW_KODAK_DC50.dng"]
