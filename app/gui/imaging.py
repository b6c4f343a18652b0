"""Display conversions: float sRGB pixels -> 8-bit ``QImage`` pyramids for the compare view.

Everything here is safe to call on a worker thread (``QImage`` is not a widget): the heavy
conversion of a 24-MP photo happens off the GUI thread, and the view then only draws the
visible region from the pyramid level closest to the current zoom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PySide6.QtGui import QImage

from app.core.color import linear_to_srgb
from app.core.image import ColorSpace, Image


def to_display_u8(data: np.ndarray) -> np.ndarray:
    """float32 (H, W, C) display-referred values in [0, 1] -> contiguous uint8 (H, W, 3)."""
    if data.ndim == 2:
        data = data[:, :, None]
    if data.shape[2] == 1:
        data = np.repeat(data, 3, axis=2)
    elif data.shape[2] > 3:
        data = data[:, :, :3]
    out = np.empty(data.shape, np.uint8)
    for y in range(0, data.shape[0], 1024):  # bands keep temporaries small on 24-MP photos
        band = np.ascontiguousarray(data[y:y + 1024])
        if float(band.min()) < 0.0:  # convertScaleAbs would fold negatives up: zero them first
            band = cv2.threshold(band.reshape(band.shape[0], -1), 0.0, 0.0, cv2.THRESH_TOZERO)[1]
        out[y:y + 1024] = cv2.convertScaleAbs(band, alpha=255.0).reshape(out[y:y + 1024].shape)
    return out


def qimage_from_u8(arr: np.ndarray) -> QImage:
    """Wrap a contiguous uint8 (H, W, 3) array; the caller keeps ``arr`` alive (see :class:`Level`)."""
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)


@dataclass
class Level:
    """One pyramid level: the QImage and the array that owns its pixels."""

    qimage: QImage
    array: np.ndarray

    @property
    def width(self) -> int:
        return int(self.array.shape[1])

    @property
    def height(self) -> int:
        return int(self.array.shape[0])


@dataclass
class Pyramid:
    """Halving levels of one picture placed in a reference (full-photo) coordinate frame.

    Attributes:
        levels: level 0 is the largest; each next one is half the size.
        origin: top-left of level 0 in reference pixels (non-zero for 1:1 detail crops).
        ref_scale: level-0 pixels per reference pixel (e.g. 0.3 for a 2-MP preview of a 24-MP photo).
    """

    levels: list[Level]
    ref_scale: float = 1.0
    origin: tuple[float, float] = (0.0, 0.0)
    tag: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return self.levels[0].width

    @property
    def height(self) -> int:
        return self.levels[0].height

    def ref_size(self) -> tuple[float, float]:
        """(width, height) this picture covers, in reference pixels."""
        return self.width / self.ref_scale, self.height / self.ref_scale

    def pick(self, device_px_per_ref_px: float) -> tuple[Level, float]:
        """The smallest level still at least as detailed as the screen needs, and its scale
        (level pixels per reference pixel)."""
        best, scale = self.levels[0], self.ref_scale
        for level in self.levels[1:]:
            s = self.ref_scale * level.width / self.width
            if s < device_px_per_ref_px:
                break
            best, scale = level, s
        return best, scale


def build_pyramid(u8: np.ndarray, *, ref_scale: float = 1.0, origin: tuple[float, float] = (0.0, 0.0),
                  min_side: int = 192) -> Pyramid:
    """Levels of ``u8`` halved with area averaging until the short side is below ``min_side``."""
    levels = [Level(qimage_from_u8(u8), u8)]
    cur = u8
    while min(cur.shape[:2]) // 2 >= min_side:
        cur = cv2.resize(cur, (cur.shape[1] // 2, cur.shape[0] // 2), interpolation=cv2.INTER_AREA)
        cur = np.ascontiguousarray(cur)
        levels.append(Level(qimage_from_u8(cur), cur))
    return Pyramid(levels, ref_scale=ref_scale, origin=origin)


def pyramid_from_image(image: Image, *, ref_scale: float = 1.0,
                       origin: tuple[float, float] = (0.0, 0.0)) -> Pyramid:
    """Display pyramid of a developed (sRGB) image."""
    if image.space is ColorSpace.BAYER:
        raise ValueError("a RAW mosaic must be developed before display")
    data = image.data
    if image.space is ColorSpace.LINEAR:
        data = linear_to_srgb(data)
    return build_pyramid(to_display_u8(data), ref_scale=ref_scale, origin=origin)
