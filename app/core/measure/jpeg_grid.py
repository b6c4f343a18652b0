"""JPEG quality from the pixels: the quantisation lattice of the 8x8 DCT coefficients.

A decoded JPEG's luma, cut on its 8x8 grid and transformed with the same DCT, has coefficients that sit on
multiples of the file's quantisation steps (up to the decoder's and the RGB rounding, ~0.3 on the
orthonormal scale). Finding those steps for a few low-frequency coefficients and inverting the IJG
table scaling gives the quality the file was saved at even when the file is gone (a crop in memory, a
PNG of a JPEG). This is the textbook quantisation-table estimate (Fan & de Queiroz, "Identification of
bitmap compression history", IEEE TIP 2003), simplified:

* the grid phase is the one whose high-frequency coefficients are most often exactly zero (a JPEG's
  quantisation zeroes most of them; at any other phase the block edges spread energy there);
* a step ``q`` is accepted for a coefficient when the coefficients of magnitude >= q/2 lie, on average,
  within :data:`LATTICE_TOL` of a multiple of ``q`` (random data: 0.25); the largest accepted step wins.

A step of 1 is indistinguishable from no JPEG history, so quality ~95 and above (and any image without
JPEG history, or resampled after it) reads ``None``: "no visible quantisation", which is what Auto needs.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dctn

from app.core.io.jpeg_tables import IJG_LUMA

#: Mean distance (in steps) to the nearest multiple below which coefficients are on a lattice. Random
#: values give 0.25; a true step of 2 with ~0.3 rounding noise gives ~0.12, 3 and up <= 0.08.
LATTICE_TOL = 0.12
#: low-frequency AC coefficients (row, col) whose steps are estimated: they carry enough non-zero values
COEFFS = ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1))
MAX_STEP = 120
MIN_VALUES = 16
_HIGH = np.add.outer(np.arange(8), np.arange(8)) >= 6  # high frequencies for the phase search


def _block_dct(y: np.ndarray, oy: int, ox: int, limit: int | None = None) -> np.ndarray:
    """Orthonormal 8x8 DCTs (JPEG's FDCT) of the unclipped blocks at phase (oy, ox): ``(N, 8, 8)``."""
    h, w = (y.shape[0] - oy) // 8 * 8, (y.shape[1] - ox) // 8 * 8
    b = y[oy:oy + h, ox:ox + w].reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2).reshape(-1, 8, 8)
    # clipped blocks (saturated highlights, black shadows) are off the lattice
    b = b[(b.min(axis=(1, 2)) > -127.5) & (b.max(axis=(1, 2)) < 126.5)]
    if limit is not None and len(b) > limit:
        b = b[np.linspace(0, len(b) - 1, limit).astype(int)]
    return dctn(b, axes=(1, 2), norm="ortho")


#: the grid phase is searched on a central window of at most this size (64 phases x the whole photo
#: would take seconds)
PHASE_WINDOW = 512


def grid_phase(y: np.ndarray) -> tuple[int, int]:
    """The (row, column) offset of the 8x8 grid whose high frequencies are most often exactly zero."""
    # a window starting on a multiple of 8 keeps the phase of the whole image
    y0 = max(0, (y.shape[0] - PHASE_WINDOW) // 16 * 8)
    x0 = max(0, (y.shape[1] - PHASE_WINDOW) // 16 * 8)
    y = y[y0:y0 + PHASE_WINDOW, x0:x0 + PHASE_WINDOW]
    best, phase = -1.0, (0, 0)
    for oy in range(8):
        for ox in range(8):
            c = _block_dct(y, oy, ox, limit=600)
            if len(c) == 0:
                continue
            score = float(np.mean(np.abs(c[:, _HIGH]) < 0.6))
            if score > best:
                best, phase = score, (oy, ox)
    return phase


def lattice_step(values: np.ndarray) -> int:
    """Largest quantisation step the coefficient values sit on (1: none found)."""
    v = np.asarray(values, np.float64)
    for q in range(MAX_STEP, 1, -1):
        sel = v[np.abs(v) >= 0.5 * q]
        if len(sel) < MIN_VALUES:
            continue
        r = sel / q
        if float(np.mean(np.abs(r - np.round(r)))) < LATTICE_TOL:
            return q
    return 1


def _quality_from_step(step: int, base: int) -> float:
    scale = 100.0 * step / base  # IJG: step = (base * scale + 50) // 100
    return 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0


def jpeg_quality_estimate(rgb: np.ndarray) -> tuple[float | None, tuple[int, int]]:
    """IJG-equivalent quality of the JPEG an sRGB image was decoded from, from its pixels alone.

    Args:
        rgb: ``(H, W, 3)`` or ``(H, W)`` float in [0, 1] (8-bit data scaled by 1/255).

    Returns:
        ``(quality or None, (row phase, column phase))``: ``None`` when no quantisation step above 1 is
        found (no JPEG history, quality >= ~95, or the image was resampled or edited after decoding).
    """
    x = np.asarray(rgb, np.float64)
    y = x if x.ndim == 2 else (x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114 if x.shape[2] >= 3
                               else x[..., 0])
    y = y * 255.0 - 128.0
    if min(y.shape) < 64:
        return None, (0, 0)
    oy, ox = grid_phase(y)
    c = _block_dct(y, oy, ox, limit=8000)
    qualities = []
    for u, v in COEFFS:
        step = lattice_step(c[:, u, v])
        if step > 1:
            qualities.append(_quality_from_step(step, int(IJG_LUMA[u * 8 + v])))
    # one coefficient on a lattice can be chance (a posterised graphic); a JPEG quantises them all
    if len(qualities) < 3:
        return None, (oy, ox)
    return float(np.clip(np.median(qualities), 1, 100)), (oy, ox)
