"""Issue 22: identify files by content, clean one-line messages, NaN pixels, the memory check, quiet decoders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from io_testdata import png_header_only

from app.core.io import (
    DecodeError,
    ExportError,
    ImageIOError,
    budget,
    load_image,
    load_preview,
    read_metadata,
    save_image,
)
from app.core.io.errors import describe
from app.core.io.formats import detect

KDC = "rawpy-test_RAW_KODAK_DC50.KDC"
CR2 = "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
DNG = "tinydng_Canon_EOS_Kiss_X4_MagicLantern_colorchart.dng"


@pytest.mark.parametrize("name, renamed, kind", [(KDC, "kdc.jpg", "raw"), (CR2, "cr2.jpg", "raw"),
                                                 (DNG, "dng.tif", "raw"), (KDC, "kdc.tif", "raw")])
def test_raw_files_are_identified_by_content(raw_dir, tmp_path, name, renamed, kind):
    src = raw_dir / "bayer" / name
    dst = tmp_path / renamed
    os.symlink(src, dst)
    assert detect(dst) == kind


def test_plain_tiffs_stay_tiffs(tmp_path):
    for k, kwargs in enumerate(({}, {"compression": "zlib"}, {"photometric": "minisblack"})):
        shape = (8, 8) if kwargs.get("photometric") else (8, 8, 3)
        tifffile.imwrite(tmp_path / f"t{k}.tif", np.zeros(shape, np.uint16), **kwargs)
        assert detect(tmp_path / f"t{k}.tif") == "tiff"
    cv2.imwrite(str(tmp_path / "cv.tif"), np.zeros((8, 8, 3), np.uint8))
    assert detect(tmp_path / "cv.tif") == "tiff"


def test_renamed_kdc_decodes_the_photo_not_its_thumbnail(raw_dir, tmp_path):
    shutil.copy(raw_dir / "bayer" / KDC, tmp_path / "kdc.jpg")
    image = load_image(tmp_path / "kdc.jpg", raw_as="srgb")
    assert image.raw is not None or image.meta.format.startswith("raw")
    assert max(image.data.shape[:2]) >= 500  # the 96x64 thumbnail is what a TIFF decoder would give


def test_messages_have_no_object_reprs_or_bytes():
    assert describe(OSError("cannot identify image file <_io.BytesIO object at 0x7f897fbf2020>")) == \
        "cannot identify image file"
    import rawpy

    assert describe(rawpy.LibRawIOError(b"Input/output error")) == "Input/output error"


def test_truncated_raw_and_odd_headers_give_clean_messages(raw_dir, tmp_path, capfd):
    data = (raw_dir / "bayer" / KDC).read_bytes()
    (tmp_path / "cut.KDC").write_bytes(data[: len(data) * 2 // 3])
    jpeg = tmp_path / "odd.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9")
    for path in (tmp_path / "cut.KDC", jpeg):
        for fn in (load_image, load_preview, read_metadata):
            try:
                fn(path)
            except ImageIOError as exc:
                text = str(exc)
                assert text.startswith(f"{path.name}: ") and text.count(path.name) == 1, text
                assert "0x" not in text and "b'" not in text and "\n" not in text, text
    err = capfd.readouterr().err
    assert err == "", err  # LibRaw's "<temp path>: Unexpected end of file" and friends stay off stderr


def test_native_decoder_warnings_do_not_reach_stderr(tmp_path, capfd):
    ok, buf = cv2.imencode(".jpg", (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    data = bytearray(buf.tobytes())
    mid = (data.rfind(b"\xff\xda") + len(data)) // 2
    data[mid : mid + 40] = bytes(40)  # libjpeg: "Corrupt JPEG data: N extraneous bytes before marker"
    (tmp_path / "garbled.jpg").write_bytes(bytes(data))
    load_image(tmp_path / "garbled.jpg")
    assert capfd.readouterr().err == ""


def test_nan_float_tiffs(tmp_path):
    tifffile.imwrite(tmp_path / "nan.tif", np.full((8, 8, 3), np.nan, np.float32), photometric="rgb")
    with pytest.raises(DecodeError, match="every sample is NaN or infinite"):
        load_image(tmp_path / "nan.tif")
    part = np.full((8, 8, 3), 0.5, np.float32)
    part[0] = np.nan
    part[1] = np.inf
    tifffile.imwrite(tmp_path / "part.tif", part, photometric="rgb")
    image = load_image(tmp_path / "part.tif")
    assert np.isfinite(image.data).all() and "48 NaN or infinite" in image.meta.extra["notes"][0]


def test_memory_check_refuses_before_decoding(tmp_path, monkeypatch):
    big = png_header_only(tmp_path / "big.png", 19000, 19000)
    monkeypatch.setattr(budget, "available_memory", lambda: 8e9 * 0.5)  # an 8 GB laptop, half of it free
    with pytest.raises(DecodeError, match=r"19000x19000 \(361 megapixels\) needs about 9\.7 GB, 4\.0 GB is free"):
        load_image(big)
    assert read_metadata(big).extra["full_size"] == (19000, 19000)  # metadata needs no pixels
    monkeypatch.setattr(budget, "available_memory", lambda: 1e6)
    with pytest.raises(DecodeError, match="memory available"):
        load_image(Path(__file__).resolve().parents[3] / "resources" / "samples" / "sample.jpg")


def test_memory_estimate_scales_with_the_stored_samples():
    assert budget.peak_bytes(1000, 1000, 3) == 1000 * 1000 * 27
    assert budget.peak_bytes(1000, 1000, 6, working_copy=False) == 1000 * 1000 * 18
    assert 0 < budget.available_memory() <= __import__("psutil").virtual_memory().total


def test_unwritable_folder_message_names_the_output_not_the_temp(tmp_path, monkeypatch):
    from app.core.image import Image

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if ".partial" in os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ExportError) as err:
        save_image(Image(np.zeros((4, 4, 3), np.float32)), tmp_path / "out.jpg")
    assert str(err.value).startswith("out.jpg: cannot write in ") and ".partial" not in str(err.value)
    assert "Permission denied" in str(err.value)


def test_overlong_output_name_is_one_clean_line(tmp_path):
    from app.core.image import Image

    with pytest.raises(ExportError) as err:
        save_image(Image(np.zeros((4, 4, 3), np.float32)), tmp_path / ("x" * 300 + ".jpg"))
    assert "File name too long" in str(err.value) and "Errno" not in str(err.value)
    assert not list(tmp_path.iterdir())


