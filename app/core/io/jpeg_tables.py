"""A JPEG file's quantisation tables and IJG-equivalent quality.

Used by ``analyze`` (reporting), by the ``dejpeg`` op (its quality input and its quantisation-constraint
projection, :mod:`app.core.ops.dejpeg_qcs`) and by the ``spp`` baseline; it lives in ``io`` so all of them
can import it without a cycle between ``ops`` and ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: libjpeg's (IJG) standard luminance table at quality 50, natural order.
IJG_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
                     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
                     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])
#: libjpeg's standard chrominance table at quality 50, natural order.
IJG_CHROMA = np.array([17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                       24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32)


def dct8_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II basis ``(8, 8)`` float64 (JPEG's FDCT scale): ``D @ block @ D.T``."""
    k = np.arange(8)
    d = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / 16.0) * np.sqrt(2.0 / 8.0)
    d[0] /= np.sqrt(2.0)
    return d


def ijg_table(base: np.ndarray, quality: float) -> np.ndarray:
    """``base`` (64 values, natural order) scaled to ``quality`` as libjpeg does: ``(8, 8)`` float64 steps.

    libjpeg's scale is an integer (``5000 / q`` truncated), then ``(base * scale + 50) / 100`` truncated and
    kept within 1..255 (baseline), so an integer quality gives the file's exact table.
    """
    q = float(np.clip(quality, 1, 100))
    scale = np.floor(5000.0 / q) if q < 50 else 200.0 - 2.0 * q
    return np.clip(np.floor((np.asarray(base, np.float64) * scale + 50.0) / 100.0), 1, 255).reshape(8, 8)


@dataclass(frozen=True)
class JpegTables:
    """What a JPEG stored: quantisation steps (``(8, 8)``, natural order) and the chroma subsampling.

    Attributes:
        luma: the luminance (Y) table.
        chroma: the table of Cb and Cr; None for a greyscale JPEG or one whose two chroma components
            differ in table or sampling (not projected).
        subsampling: chroma (rows, columns) subsampling: (1, 1) 4:4:4, (1, 2) 4:2:2, (2, 2) 4:2:0.
    """

    luma: np.ndarray
    chroma: np.ndarray | None = None
    subsampling: tuple[int, int] = (2, 2)

    @classmethod
    def ijg(cls, quality: int, subsampling: tuple[int, int] = (2, 2)) -> JpegTables:
        """The tables libjpeg (OpenCV, Pillow) writes at ``quality`` (the bench compresses this way)."""
        return cls(ijg_table(IJG_LUMA, quality), ijg_table(IJG_CHROMA, quality), subsampling)

    @property
    def quality(self) -> float:
        """The IJG-equivalent quality of the luminance table (1-100)."""
        return quality_from_luma_table(self.luma)

    def to_meta(self) -> dict:
        """Plain lists and tuples for ``Metadata.extra["jpeg_tables"]`` (comparable, JSON-friendly)."""
        return {"luma": [int(v) for v in self.luma.ravel()],
                "chroma": None if self.chroma is None else [int(v) for v in self.chroma.ravel()],
                "subsampling": tuple(int(v) for v in self.subsampling)}

    @classmethod
    def from_meta(cls, d: dict) -> JpegTables:
        chroma = d.get("chroma")
        return cls(np.asarray(d["luma"], np.float64).reshape(8, 8),
                   None if chroma is None else np.asarray(chroma, np.float64).reshape(8, 8),
                   tuple(d.get("subsampling", (2, 2))))


def quality_from_luma_table(table) -> float:
    """IJG-equivalent quality of a luminance quantisation table (64 values, either order)."""
    scale = 100.0 * float(np.sum(table)) / IJG_LUMA.sum()  # order-independent: zigzag or natural
    quality = 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0
    return float(np.clip(round(quality), 1, 100))


def jpeg_tables_from_file(path: str | Path | BinaryIO) -> JpegTables | None:
    """The quantisation tables and subsampling of a baseline/progressive YCbCr or grey JPEG, else None.

    None for files that are not JPEG, CMYK/YCCK, Adobe "RGB" JPEGs (no colour transform: the components
    are not YCbCr) and anything Pillow cannot read.
    """
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as im:
            tables = getattr(im, "quantization", None)
            layers = getattr(im, "layer", None)
            if im.format != "JPEG" or not tables or not layers or im.mode not in ("RGB", "L"):
                return None
            if im.mode == "RGB" and im.info.get("adobe_transform", 1) == 0:
                return None
            qt = {k: np.asarray(v, np.float64).reshape(8, 8) for k, v in tables.items()}
    except (OSError, ValueError, SyntaxError):
        return None
    (_, h0, v0, t0), *rest = layers
    if t0 not in qt:
        return None
    chroma, sub = None, (1, 1)
    if len(rest) == 2 and rest[0][1:] == rest[1][1:] and rest[0][3] in qt:
        _, h1, v1, t1 = rest[0]
        if v0 % v1 == 0 and h0 % h1 == 0:
            chroma, sub = qt[t1], (v0 // v1, h0 // h1)
    return JpegTables(qt[t0], chroma, sub)


def jpeg_quality_from_file(path: str | Path) -> float | None:
    """IJG-equivalent quality of a JPEG file from its luminance quantisation table (None if not JPEG)."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as im:
            tables = getattr(im, "quantization", None)
            if im.format != "JPEG" or not tables:
                return None
            q = np.asarray(tables[0], np.float64)
    except OSError:
        return None
    return quality_from_luma_table(q)
