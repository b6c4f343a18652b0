"""Torch-free colour maths: the one copy of the sRGB curves, RGGB packing and size padding.

Everything that needs these imports them from here -- GUI display, ICC handling, ops, metrics,
training -- so there is one sRGB curve to get right. Torch lives elsewhere (``isp.tone`` has the
differentiable twins); this module needs only numpy and OpenCV, so it is cheap to import.

The sRGB curves follow IEC 61966-2-1 exactly and are extended to values outside [0, 1] by odd
symmetry and by the power law above 1, so scene-linear highlights (> 1) and small negative values
from noise survive a round trip instead of being clipped. Callers that want [0, 1] clip first.
They use ``cv2.pow``, several times faster than ``np.power`` on float32, with one output buffer.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "SRGB_A", "SRGB_GAMMA", "SRGB_SLOPE", "SRGB_T_ENC", "SRGB_T_LIN",
    "srgb_to_linear", "linear_to_srgb", "pack_rggb", "unpack_rggb", "pad_amounts", "pad_to_multiple",
]

# IEC 61966-2-1 constants. The linear-segment threshold in the encoded domain is 0.04045 and
# 0.0031308 in the linear domain; they agree to ~1e-7, well below float32 image precision.
SRGB_A = 0.055
SRGB_GAMMA = 2.4
SRGB_SLOPE = 12.92
SRGB_T_ENC = 0.04045
SRGB_T_LIN = 0.0031308
#: Rec. 601 luma weights on sRGB values: the grey/colour split of the denoiser's sliders, its guard and its
#: noise reading (one copy, so the three split a change the same way).
REC601_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _prepare(x: np.ndarray, out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if out is None:
        out = np.empty_like(x)
    elif out.shape != x.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous float32 array of the input's shape")
    # cv2 accepts any contiguous array once it is 2-D; these are views, not copies.
    return x.reshape(-1, 1), out.reshape(-1, 1), out


#: Elements per chunk of the curves: each chunk's ~ten passes then run in the CPU cache instead of streaming
#: a 24-MP image through memory ten times, and the temporaries are 1 MB, not full size (bit-identical).
_CHUNK = 1 << 18


def _apply(x: np.ndarray, out: np.ndarray | None, threshold: float, slope: float, encode: bool) -> np.ndarray:
    flat, dst, result = _prepare(x, out)
    # Images are mostly non-negative (clipped, or straight from a file): then the sign handling and the
    # lower half of the toe test are no-ops, and skipping them saves passes (bit-identical results).
    signed = flat.size > 0 and bool(flat.min() < 0)
    f32 = np.float32
    step = max(1, min(_CHUNK, flat.shape[0]))
    low, small = np.empty((step, 1), np.float32), np.empty((step, 1), bool)
    lower, neg = (np.empty((step, 1), bool), np.empty((step, 1), bool)) if signed else (None, None)
    for i in range(0, flat.shape[0], _CHUNK):
        # Everything that needs the input is gathered first so that ``out`` may alias ``x``.
        src, d = flat[i : i + _CHUNK], dst[i : i + _CHUNK]
        k = src.shape[0]
        sm, lo = small[:k], low[:k]
        np.less_equal(src, f32(threshold), out=sm)
        np.multiply(src, f32(slope), out=lo)
        base = src
        if lower is not None and neg is not None:
            np.greater_equal(src, f32(-threshold), out=lower[:k])
            sm &= lower[:k]
            np.signbit(src, out=neg[:k])
            base = np.abs(src, out=d)
        if encode:
            cv2.pow(base, 1.0 / SRGB_GAMMA, d)
            d *= f32(1.0 + SRGB_A)
            d -= f32(SRGB_A)
        else:
            np.add(base, f32(SRGB_A), out=d)
            d *= f32(1.0 / (1.0 + SRGB_A))
            cv2.pow(d, SRGB_GAMMA, d)
        if neg is not None:
            np.negative(d, out=d, where=neg[:k])
        np.copyto(d, lo, where=sm)
    return result


def srgb_to_linear(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """sRGB-encoded -> linear light (float32, any shape, e.g. ``(H, W, 3)``).

    Args:
        x: sRGB-encoded values; integer input is *not* rescaled, convert to [0, 1] first.
        out: optional C-contiguous float32 buffer of the same shape; may be ``x`` itself, which
            avoids a second full-size allocation on large images.

    Returns:
        float32 array of linear values (``out`` when given).
    """
    return _apply(x, out, SRGB_T_ENC, 1.0 / SRGB_SLOPE, encode=False)


def linear_to_srgb(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Linear light -> sRGB-encoded (float32, any shape); values above 1 follow the power law.

    Args:
        x: linear values, nominally in [0, 1].
        out: optional C-contiguous float32 buffer of the same shape; may be ``x`` itself.

    Returns:
        float32 array of sRGB-encoded values (``out`` when given).
    """
    return _apply(x, out, SRGB_T_LIN, SRGB_SLOPE, encode=True)


def pack_rggb(mosaic: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, 1)`` RGGB mosaic -> ``(H/2, W/2, 4)`` planes R, G1, G2, B (exact).

    G1 shares rows with R, G2 shares rows with B: the RAW denoiser's input layout.
    """
    m = mosaic[..., 0] if mosaic.ndim == 3 else mosaic
    if m.ndim != 2 or m.shape[0] % 2 or m.shape[1] % 2:
        raise ValueError(f"pack_rggb: expected an even (H, W[, 1]) mosaic, got {mosaic.shape}")
    return np.stack([m[0::2, 0::2], m[0::2, 1::2], m[1::2, 0::2], m[1::2, 1::2]], axis=-1)


def unpack_rggb(packed: np.ndarray) -> np.ndarray:
    """``(h, w, 4)`` planes R, G1, G2, B -> ``(2h, 2w, 1)`` RGGB mosaic (inverse of :func:`pack_rggb`)."""
    if packed.ndim != 3 or packed.shape[2] != 4:
        raise ValueError(f"unpack_rggb: expected (h, w, 4), got {packed.shape}")
    h, w = packed.shape[:2]
    out = np.empty((2 * h, 2 * w, 1), dtype=packed.dtype)
    out[0::2, 0::2, 0], out[0::2, 1::2, 0] = packed[..., 0], packed[..., 1]
    out[1::2, 0::2, 0], out[1::2, 1::2, 0] = packed[..., 2], packed[..., 3]
    return out


def pad_amounts(height: int, width: int, multiple: int) -> tuple[int, int]:
    """Rows and columns to add at the bottom/right so both sides become multiples of ``multiple``."""
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    return (-height) % multiple, (-width) % multiple


def pad_to_multiple(x: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad an ``(H, W[, C])`` array at the bottom/right to multiples of ``multiple``.

    Reflect padding (no new edge a network could react to); edge replication when the image is too
    small to reflect. Returns the padded array and the original ``(H, W)`` to crop back to.
    """
    h, w = x.shape[:2]
    ph, pw = pad_amounts(h, w, multiple)
    if not ph and not pw:
        return x, (h, w)
    mode = "reflect" if ph < h and pw < w else "edge"
    widths = [(0, ph), (0, pw)] + [(0, 0)] * (x.ndim - 2)
    return np.pad(x, widths, mode=mode), (h, w)
