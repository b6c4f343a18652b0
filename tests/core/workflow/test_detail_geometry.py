"""The 1:1 detail of a RAW is cut from the mosaic: a display-space rectangle must map to the sensor region
that, once oriented like the development, lands exactly at the rectangle (every EXIF orientation LibRaw
reports)."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.image import ColorSpace, Image, Metadata
from app.core.io.exif import orient
from app.core.workflow.preview import sensor_rect


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_display_rect_maps_to_the_right_mosaic_region(orientation):
    h, w = 40, 60
    ids = np.arange(h * w, dtype=np.float32).reshape(h, w, 1)  # every sensor pixel has its own value
    image = Image(ids, ColorSpace.BAYER, Metadata(orientation=orientation))
    shown = orient(ids, orientation)  # the developed photo's geometry
    rect = (10, 6, 24, 18)  # x0, y0, x1, y1 in display pixels (even, so no RGGB rounding)
    r0, r1, c0, c1 = sensor_rect(image, rect)
    assert (r0 % 2, c0 % 2, r1 % 2, c1 % 2) == (0, 0, 0, 0)
    crop = orient(ids[r0:r1, c0:c1], orientation)
    x0, y0, x1, y1 = rect
    np.testing.assert_array_equal(crop, shown[y0:y1, x0:x1])


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_detail_source_origin_is_the_rect_corner(orientation):
    from app.core.image import RawInfo
    from app.core.workflow.preview import _FIT_KEY, detail_source

    raw = RawInfo(path="x.dng", cfa_pattern="RGGB", crop_offset=(0, 0), black_level=(0, 0, 0, 0),
                  white_level=1.0, camera_wb=(1, 1, 1, 1))
    raw.extra[_FIT_KEY] = {"matrix": np.eye(3, dtype=np.float32), "wb": np.ones(3, np.float32),
                           "orientation": orientation}  # as fit_colour would leave it
    image = Image(np.zeros((40, 60, 1), np.float32), ColorSpace.BAYER, Metadata(orientation=orientation), raw)
    crop, origin = detail_source(image, (10, 6, 24, 18))
    assert origin == (10, 6) and crop.space is ColorSpace.BAYER and crop.raw.extra["binning"] == 1.0


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_srgb_detail_starts_on_the_files_jpeg_grid(orientation):
    """The stored layout's origin is the JPEG grid's: a crop turned back to it must start on a multiple of 16
    (so the dejpeg net sees the blocks where the whole photo has them), and cover the rect asked for."""
    from app.core.io.exif import unorient
    from app.core.workflow.preview import detail_source

    hs, ws = 70, 90  # not multiples of 16: a flipped axis puts the grid off the display origin
    rows, cols = np.mgrid[0:hs, 0:ws].astype(np.float32)
    stored = np.stack([rows, cols, np.zeros_like(rows)], axis=2)
    shown = np.ascontiguousarray(orient(stored, orientation))
    image = Image(shown, ColorSpace.SRGB, Metadata(orientation=orientation))
    rect = (21, 13, 45, 37)
    crop, (ox, oy) = detail_source(image, rect)
    h, w = crop.data.shape[:2]
    assert ox <= rect[0] and oy <= rect[1] and ox + w >= rect[2] and oy + h >= rect[3]
    np.testing.assert_array_equal(crop.data, shown[oy:oy + h, ox:ox + w])
    r0, c0 = unorient(crop.data, orientation)[0, 0, :2]
    assert r0 % 16 == 0 and c0 % 16 == 0
