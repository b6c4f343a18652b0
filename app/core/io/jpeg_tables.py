"""A JPEG file's IJG-equivalent quality, from its luminance quantisation table.

Used by ``analyze`` (reporting) and by the ``dejpeg`` op (its quality input); it lives in ``io`` so both
can import it without a cycle between ``ops`` and ``metrics``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: libjpeg's (IJG) standard luminance table at quality 50, natural order.
IJG_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
                     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
                     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99])


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
    scale = 100.0 * q.sum() / IJG_LUMA.sum()  # order-independent: sums ignore zigzag vs natural order
    quality = 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0
    return float(np.clip(round(quality), 1, 100))
