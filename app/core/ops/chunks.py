"""Row-band processing for classical per-pixel ops: bounded temporaries, progress, cancellation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.core.context import RunContext


def map_rows(fn: Callable[[np.ndarray], np.ndarray], data: np.ndarray, ctx: RunContext,
             *, rows: int = 256, halo: int = 0) -> np.ndarray:
    """Apply ``fn`` to horizontal bands of ``data`` (H, W, C) and assemble a new array.

    ``halo`` extra rows are given to ``fn`` on each side (for neighbourhood filters) and cut
    from its output, so bands join without seams as long as the filter radius <= halo.
    """
    h = data.shape[0]
    out: np.ndarray | None = None
    for y0 in range(0, h, rows):
        ctx.check_cancelled()
        y1 = min(h, y0 + rows)
        a, b = max(0, y0 - halo), min(h, y1 + halo)
        band = fn(data[a:b])
        if band.ndim == 2:
            band = band[:, :, None]
        if out is None:
            out = np.empty((h, data.shape[1], band.shape[2]), np.float32)
        out[y0:y1] = band[y0 - a: y0 - a + (y1 - y0)]
        ctx.progress(y1 / h)
    assert out is not None
    return out


def blend_to_array(out, x, strength: float, channels: int) -> np.ndarray:
    """A net's ``(1, 3, H, W)`` output blended with its input ``x`` by ``strength``, clamped to [0, 1], as an
    ``(H, W, channels)`` float32 array (a grey input gets the mean of the colour output back)."""
    if strength != 1.0:
        out.sub_(x).mul_(strength).add_(x)
    out.clamp_(0.0, 1.0)
    result = np.ascontiguousarray(out[0].permute(1, 2, 0).numpy())
    return result if channels == 3 else result.mean(axis=2, keepdims=True, dtype=np.float32)
