"""JPEG tables from files and the quantisation-constraint projection of ``dejpeg`` (app/core/ops/dejpeg_qcs.py)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from app.core.io.jpeg_tables import JpegTables, jpeg_tables_from_file
from app.core.ops import dejpeg_qcs as qcs

SUBSAMPLING = {(2, 2): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, (1, 2): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
               (1, 1): cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}


def _clean(h: int = 96, w: int = 128) -> np.ndarray:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    texture = cv2.GaussianBlur(rng.uniform(0, 1, (h, w, 3)).astype(np.float32), (0, 0), 1.2)
    base = np.stack([x / w, y / h, 0.5 + 0.3 * np.sin(x / 5)], axis=2)
    return np.round(np.clip(0.15 + 0.5 * base + 0.35 * texture, 0, 1) * 255).astype(np.uint8)


def _encode(u8: np.ndarray, q: int, sub=(2, 2)) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SUBSAMPLING[sub]])
    assert ok
    return buf.tobytes()


def _decode(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255


@pytest.mark.parametrize("sub", list(SUBSAMPLING))
@pytest.mark.parametrize("q", [10, 33, 50, 77, 95])
def test_tables_from_a_file_are_libjpegs(q, sub):
    t = jpeg_tables_from_file(io.BytesIO(_encode(_clean(), q, sub)))
    expected = JpegTables.ijg(q, sub)
    np.testing.assert_array_equal(t.luma, expected.luma)
    np.testing.assert_array_equal(t.chroma, expected.chroma)
    assert t.subsampling == sub


def test_grey_jpegs_and_other_files(tmp_path):
    grey = tmp_path / "grey.jpg"
    PILImage.fromarray(_clean()[..., 0]).save(grey, quality=40)
    t = jpeg_tables_from_file(grey)
    assert t.chroma is None
    np.testing.assert_array_equal(t.luma, JpegTables.ijg(40).luma)
    png = tmp_path / "photo.png"
    PILImage.fromarray(_clean()).save(png)
    assert jpeg_tables_from_file(png) is None
    assert jpeg_tables_from_file(tmp_path / "missing.jpg") is None
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    assert jpeg_tables_from_file(tmp_path / "broken.jpg") is None


def _luma_cells_violated(img: np.ndarray, observed: np.ndarray, table: np.ndarray) -> float:
    """Largest distance (in steps) of a whole block coefficient of ``img`` outside ``observed``'s cell."""
    h, w = img.shape[0] // 8 * 8, img.shape[1] // 8 * 8
    c_out = qcs._dct(qcs.to_ycc(img[:h, :w])[..., 0])
    k = np.round(qcs._dct(qcs.to_ycc(observed[:h, :w])[..., 0]) / table)
    return float(np.max(np.abs(c_out / table - k)) - 0.5)


@pytest.mark.parametrize("sub", list(SUBSAMPLING))
def test_projection_keeps_the_clean_photo_and_pulls_others_into_the_cells(sub):
    clean = _clean().astype(np.float32) / 255
    tables = JpegTables.ijg(25, sub)
    decoded = _decode(_encode(_clean(), 25, sub))
    # the clean photo encodes to this file: it is (up to the decoder's rounding) in every cell already
    kept = qcs.project(clean, decoded, tables)
    assert np.sqrt(np.mean((kept - clean) ** 2)) < 0.6 / 255
    # a result that leaves the cells (here: noise) is pulled back; projecting twice changes nothing more
    rng = np.random.default_rng(2)
    wild = np.clip(decoded + rng.normal(0, 0.08, decoded.shape), 0, 1).astype(np.float32)
    assert _luma_cells_violated(wild, decoded, tables.luma) > 1.0
    once = qcs.project(wild, decoded, tables)
    assert _luma_cells_violated(once, decoded, tables.luma) < 0.05  # only [0, 1] clipping and float32
    assert np.mean((once - clean) ** 2) < np.mean((wild - clean) ** 2)
    np.testing.assert_allclose(qcs.project(once, decoded, tables), once, atol=2e-3)


def test_partial_edge_blocks_keep_the_nets_result():
    decoded = _decode(_encode(_clean(), 20))[5:, :-3]  # crop: the first row of blocks is cut, edges partial
    tables = JpegTables.ijg(20)
    out = np.clip(decoded + 0.05, 0, 1).astype(np.float32)
    res = qcs.project(out, decoded, tables)
    np.testing.assert_array_equal(res[88:], out[88:])  # 91 rows: rows 88-90 are a partial block
    np.testing.assert_array_equal(res[:, 120:], out[:, 120:])
    assert not np.allclose(res[:88, :120], out[:88, :120])
    with pytest.raises(ValueError, match="equal shapes"):
        qcs.project(out, decoded[1:], tables)


def test_grey_projection():
    u8 = _clean()[..., :1]
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, 30])
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)[..., None].astype(np.float32) / 255
    clean = u8.astype(np.float32) / 255
    tables = JpegTables(JpegTables.ijg(30).luma)
    assert qcs.consistent(decoded, tables)
    assert np.sqrt(np.mean((qcs.project(clean, decoded, tables) - clean) ** 2)) < 0.6 / 255


def test_only_the_files_own_pixels_read_as_consistent():
    clean = _clean(256, 256)
    decoded = _decode(_encode(clean, 30))
    tables = JpegTables.ijg(30)
    assert qcs.consistent(decoded, tables)
    assert qcs.consistent(decoded[16:, 8:], tables)  # a crop on the grid
    assert not qcs.consistent(decoded[3:, 5:], tables)  # off the grid
    assert not qcs.consistent(cv2.resize(decoded, (128, 128), interpolation=cv2.INTER_AREA), tables)
    assert not qcs.consistent(clean.astype(np.float32) / 255, tables)  # never compressed
    assert not qcs.consistent(np.full((64, 64, 3), 0.5, np.float32), tables)  # nothing to read: no
