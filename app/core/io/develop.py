"""RAW development: (possibly modified) normalised mosaic -> sRGB via LibRaw's postprocess.

:func:`develop` reopens the source RAW, writes the mosaic back into LibRaw's buffer in sensor units
(undoing normalisation and the RGGB offset; the rows/columns the offset or even-size trim cut off keep
the file's values) and lets LibRaw demosaic and colour-convert it. So a denoised mosaic is developed
exactly like the camera's own, and an unmodified one reproduces ``rawpy``'s output bit for bit.

Settings (:data:`DEVELOP_SETTINGS`): AHD demosaic, camera (as-shot) white balance, sRGB primaries with
the true sRGB tone curve (rawpy's default is BT.709's), 16-bit output, highlights clipped, LibRaw's auto
brightness (its 1 % clip rule; pass ``auto_bright=False`` for a fixed exposure), EXIF orientation
applied (LibRaw's flip).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import rawpy

from app.core.image import ColorSpace, Image
from app.core.io.develop_reduced import COLOUR_KEY, develop_reduced
from app.core.io.errors import DecodeError, ImageIOError
from app.core.io.formats import check_path
from app.core.io.raw import DEVELOP_SETTINGS, cfa_layout, open_raw, postprocess  # noqa: F401 - re-exported


def write_back(raw: rawpy.RawPy, image: Image) -> None:
    """Put ``image``'s normalised RGGB mosaic into ``raw``'s buffer in sensor units."""
    info = image.raw
    assert info is not None
    visible = raw.raw_image_visible
    mosaic = image.data[:, :, 0]
    h, w = mosaic.shape
    dy, dx = info.crop_offset
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        black = info.black_level[k]
        vals = mosaic[i::2, j::2] * np.float32(info.white_level - black)
        vals += np.float32(black)
        np.clip(vals, 0, 65535, out=vals)
        visible[dy + i : dy + h : 2, dx + j : dx + w : 2] = np.rint(vals).astype(np.uint16)


def develop(image: Image, *, half_size: bool = False, auto_bright: bool = True) -> Image:
    """Develop a BAYER :class:`Image` (e.g. after RAW denoising) to an sRGB one.

    Args:
        image: a ``ColorSpace.BAYER`` image from :func:`app.core.io.load_image`, pixels possibly changed
            but with the same size; its source RAW file must still exist (LibRaw reads the rest from it).
        half_size: LibRaw's quick half-resolution development (for previews).
        auto_bright: LibRaw's automatic brightness; False keeps the sensor's exposure.

    Returns:
        ``ColorSpace.SRGB`` float32 ``(H, W, 3)``, orientation applied, metadata carried over with
        ``bit_depth`` 16; ``raw`` keeps the :class:`~app.core.image.RawInfo` for provenance.

    Raises:
        ValueError: not a BAYER image, or its mosaic was resized.
        ImageIOError: the RAW file is gone, changed, or LibRaw fails.
    """
    if image.space is not ColorSpace.BAYER or image.raw is None:
        raise ValueError(f"develop() needs a BAYER image with RAW info, got {image.space.value}")
    info = image.raw
    if COLOUR_KEY in info.extra:  # a preview's reduced mosaic or a 1:1 crop: LibRaw needs the whole sensor
        return develop_reduced(image)
    expected = tuple(info.extra.get("mosaic_size", image.data.shape[:2]))
    if image.data.shape[:2] != expected:
        raise ValueError(f"mosaic size changed from {expected} to {image.data.shape[:2]}; cannot develop")
    path = Path(info.path)
    try:
        check_path(path)
    except DecodeError as exc:
        raise DecodeError(path, f"the RAW file is needed to develop the image but {exc.reason}") from None
    with open_raw(path) as raw:
        if (
            tuple(raw.raw_image.shape[:2]) != tuple(info.sensor_size)
            or cfa_layout(raw)[1] != info.crop_offset
        ):
            raise DecodeError(path, "the RAW file changed since it was loaded")
        write_back(raw, image)
        try:
            data = postprocess(raw, half_size=half_size, auto_bright=auto_bright)
        except ImageIOError as exc:
            raise DecodeError(path, exc.reason) from None
    meta = dataclasses.replace(image.meta, extra=dict(image.meta.extra))
    meta.bit_depth = 16
    meta.extra["developed"] = {"half_size": half_size, "auto_bright": auto_bright, "engine": "LibRaw"}
    return Image(data, ColorSpace.SRGB, meta, info)
