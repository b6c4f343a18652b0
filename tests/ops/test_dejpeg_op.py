"""The dejpeg op: unavailable while untrained, told the JPEG quality from the file (or by hand), projected onto
the file's quantisation cells, blended by strength; Auto puts it first when it sees blocking."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.io import load_image
from app.core.metrics.analysis import analyze_array
from app.core.metrics.recipe_auto import plan_recipe, quality_from_blockiness
from app.core.models.registry import load_model, model_state
from app.core.models.testing import temporary_model
from app.core.ops import dejpeg as dj
from app.core.ops.dejpeg_qcs import consistent, project
from app.core.ops.registry import get_op


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A verified 4 -> 3 channel test net (sRGB + quality map) under the op's model id."""
    with temporary_model(tmp_path, "tiny_dejpeg", seed=5, in_channels=4, cond_channels=1) as desc:
        monkeypatch.setattr(dj, "MODEL_ID", desc.id)
        yield desc


def _photo(tmp_path, q: int = 25):
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    img = np.stack([x / 128, y / 96, 0.5 + 0.4 * np.sin(x / 4) * np.cos(y / 6)], axis=2)
    p = tmp_path / f"photo_q{q}.jpg"
    cv2.imwrite(str(p), cv2.cvtColor(np.round(img * 255).astype(np.uint8), cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, q])
    return p


def _expected(desc, data, quality):
    model = load_model(desc.id, "cpu")
    x = torch.from_numpy(np.ascontiguousarray(data.transpose(2, 0, 1)))[None]
    q = torch.full((1, 1, *x.shape[2:]), quality / 100)
    return model.run_tensor(torch.cat([x, q], 1), tile=10_000)[0].permute(1, 2, 0).clamp(0, 1).numpy()


def test_untrained_model_makes_the_op_unavailable():
    op = get_op("dejpeg")
    state = model_state(dj.MODEL_ID)
    ok, why = op.availability()
    assert ok == state.ok
    if not ok:
        assert dj.MODEL_ID in why


def test_quality_and_tables_read_from_the_jpeg_file(tiny, tmp_path):
    img = load_image(_photo(tmp_path, 25))
    assert dj.source_quality(img) == 25
    tables = dj.source_tables(img)
    assert tables is not None and consistent(img.data, tables)
    out = get_op("dejpeg").run(img, dj.DejpegParams(), RunContext(device="cpu"))
    np.testing.assert_allclose(out.data, project(_expected(tiny, img.data, 25), img.data, tables), atol=1e-5)
    by_hand = get_op("dejpeg").run(img, dj.DejpegParams(quality=80), RunContext(device="cpu"))
    np.testing.assert_allclose(by_hand.data, project(_expected(tiny, img.data, 80), img.data, tables), atol=1e-5)
    assert not np.allclose(out.data, by_hand.data)  # the quality reaches the net
    half = get_op("dejpeg").run(img, dj.DejpegParams(strength=0.5), RunContext(device="cpu"))
    np.testing.assert_allclose(half.data, img.data + 0.5 * (out.data - img.data), atol=1e-5)


def test_an_edited_jpeg_is_not_projected(tiny, tmp_path):
    """Pixels that are no longer the file's decoding (here: brightened) get the net alone."""
    img = load_image(_photo(tmp_path, 25))
    edited = img.with_data(np.clip(img.data * 1.1 + 0.013, 0, 1).astype(np.float32))
    assert not consistent(edited.data, dj.source_tables(img))
    out = get_op("dejpeg").run(edited, dj.DejpegParams(), RunContext(device="cpu"))
    np.testing.assert_allclose(out.data, _expected(tiny, edited.data, 25), atol=1e-5)


def test_strength_blends_and_non_jpeg_falls_back_with_a_warning(tiny, tmp_path):
    data = load_image(_photo(tmp_path)).data
    img = Image(data.copy(), ColorSpace.SRGB)  # no file: no tables
    ctx = RunContext(device="cpu")
    full = get_op("dejpeg").run(img, dj.DejpegParams(), ctx).data
    assert any("quality 40 assumed" in w for w in ctx.warnings)
    np.testing.assert_allclose(full, _expected(tiny, data, dj.FALLBACK_QUALITY), atol=1e-5)
    half = get_op("dejpeg").run(img, dj.DejpegParams(strength=0.5), RunContext(device="cpu")).data
    np.testing.assert_allclose(half, data + 0.5 * (full - data), atol=1e-5)
    with pytest.raises(ValueError, match="sRGB"):
        get_op("dejpeg").run(Image(np.zeros((8, 8, 1), np.float32), ColorSpace.BAYER), dj.DejpegParams(),
                             RunContext(device="cpu"))


def test_auto_puts_dejpeg_first_with_the_quality(tmp_path):
    u8 = cv2.imread(str(_photo(tmp_path, 15)))
    blocky = cv2.cvtColor(u8, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    a = analyze_array(blocky)
    if not a.is_blocky:
        pytest.skip(f"synthetic photo not blocky enough ({a.jpeg.blockiness:.2f})")
    steps = plan_recipe(a, available=lambda op: True)
    assert steps[0].op_id == "dejpeg" and steps[0].params["quality"] == quality_from_blockiness(a.jpeg.blockiness)
    assert [s.op_id for s in plan_recipe(a, available=lambda op: op != "dejpeg")][:1] != ["dejpeg"]
    assert quality_from_blockiness(1.32) == 50 and quality_from_blockiness(3.0) == 10
    assert quality_from_blockiness(1.0) == 70


def _blocky(h: int = 96, w: int = 128, q: int = 20) -> np.ndarray:
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.uniform(0, 1, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    u8 = np.round(np.clip(0.2 + 0.6 * texture, 0, 1) * 255).astype(np.uint8)
    return dj_roundtrip(u8, q).astype(np.float32) / 255


def dj_roundtrip(u8: np.ndarray, q: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def test_grid_padding_finds_the_jpeg_grid_of_a_cropped_jpeg():
    img = _blocky()
    assert dj.grid_padding(img) == (0, 0)
    assert dj.grid_padding(img[3:, 5:]) == (3, 5)  # the 3 rows / 5 columns cropped off come back as padding
    flat = np.full((64, 64, 3), 0.5, np.float32)
    assert dj.grid_padding(flat) == (0, 0)  # no blocking: no guess


def test_a_cropped_png_is_cleaned_on_its_grid(tiny):
    data = _blocky()[3:, 5:]
    out = get_op("dejpeg").run(Image(data.copy(), ColorSpace.SRGB), dj.DejpegParams(quality=20),
                               RunContext(device="cpu")).data
    padded = np.pad(data, ((3, 0), (5, 0), (0, 0)), mode="edge")
    np.testing.assert_allclose(out, _expected(tiny, padded, 20)[3:, 5:], atol=1e-5)


def test_a_rotated_jpeg_is_cleaned_in_its_stored_layout(tiny, tmp_path):
    from PIL import Image as PILImage

    from app.core.io.exif import orient

    stored = np.round(_blocky(88, 120, 90) * 255).astype(np.uint8)  # 88 x 120: not multiples of 16
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    PILImage.fromarray(stored).save(path, quality=30, exif=exif.tobytes())
    img = load_image(path)
    assert img.meta.orientation == 6 and img.data.shape[:2] == (120, 88)
    out = get_op("dejpeg").run(img, dj.DejpegParams(), RunContext(device="cpu")).data
    decoded = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION),
                           cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    tables = dj.source_tables(img)
    assert consistent(decoded, tables)  # the file's grid, in the stored layout
    np.testing.assert_allclose(out, orient(project(_expected(tiny, decoded, 30), decoded, tables), 6), atol=2e-5)


def test_the_loader_records_the_tables_and_the_op_needs_no_file(tiny, tmp_path):
    from PIL import Image as PILImage

    img = load_image(_photo(tmp_path, 25))
    record = img.meta.extra["jpeg_tables"]
    assert record["subsampling"] == (2, 2) and len(record["luma"]) == 64
    png = tmp_path / "photo.png"
    PILImage.fromarray(np.round(img.data * 255).astype(np.uint8)).save(png)
    assert "jpeg_tables" not in load_image(png).meta.extra
    # pixels with the record and no file (a bench's own compression) run as the file does
    from app.core.image import Metadata

    bare = Image(img.data.copy(), ColorSpace.SRGB, Metadata(format="jpeg", extra={"jpeg_tables": record}))
    assert dj.source_quality(bare) == 25
    ctx = RunContext(device="cpu")
    np.testing.assert_array_equal(get_op("dejpeg").run(bare, dj.DejpegParams(), ctx).data,
                                  get_op("dejpeg").run(img, dj.DejpegParams(), ctx).data)


def test_a_jpeg_cropped_off_its_grid_finds_the_grid_and_is_not_projected(tiny, tmp_path):
    from app.core.image import Metadata
    from app.core.io.jpeg_tables import JpegTables

    data = _blocky()[3:, 5:]
    meta = Metadata(format="jpeg", extra={"jpeg_tables": JpegTables.ijg(20).to_meta()})
    img = Image(data.copy(), ColorSpace.SRGB, meta)
    out = get_op("dejpeg").run(img, dj.DejpegParams(), RunContext(device="cpu")).data
    padded = np.pad(data, ((3, 0), (5, 0), (0, 0)), mode="edge")
    np.testing.assert_allclose(out, _expected(tiny, padded, 20)[3:, 5:], atol=1e-5)
