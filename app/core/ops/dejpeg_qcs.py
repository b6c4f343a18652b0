"""Quantisation-constraint projection for ``dejpeg``: keep the result consistent with the JPEG file.

A JPEG stores, per 8x8 block of each YCbCr plane, DCT coefficients divided by the quantisation table
and rounded: the clean photo's coefficient ``c`` is known to lie in ``[q (k - 1/2), q (k + 1/2)]`` for the
stored integer ``k``. A restored image that leaves that interval is *less* consistent with the file than
the decoded input, so after the network every coefficient is clipped back into it (projection onto the
convex set of images that encode to the same file; the classic "QCS" step of POCS deblocking, e.g.
Zakhor 1992, and of deep JPEG restorers such as Zhang et al., "DMCNN", 2018).

``k`` is read back from the decoded pixels: the decoded input's coefficients are ``q k`` plus the
decoder's rounding (IDCT, colour conversion, 8-bit; ~0.3-0.5 on the orthonormal scale), so ``round(c / q)``
recovers ``k`` for all but the smallest steps. That only holds for the pixels of the file itself, at its
size and on its grid: :func:`consistent` checks the lattice before the op projects (a downscaled preview,
an edited image or a PNG of a JPEG is left alone).

Chroma: 4:4:4 chroma is projected like luma. Subsampled chroma is projected on the box-averaged plane
(what the encoder stored, up to its rounding) and the change is upsampled bilinearly (as libjpeg's
"fancy" upsampling does) and added. All in JPEG's full-range BT.601 YCbCr on the 0-255 scale.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.io.jpeg_tables import JpegTables, dct8_matrix

#: Mean distance to the nearest multiple (in steps) of the decoded luma's coefficients with steps >= 4
#: below which the pixels are taken to be the file's own decoding (random values: 0.25; a JPEG decoded
#: as it is stored: 0.03-0.08 on training photos at q20-40; area-downscaled by 2 or shifted off the grid: 0.26).
LATTICE_TOL = 0.15
#: Steps below this are not used for the lattice check (rounding noise is a large part of them).
CHECK_STEP = 4

_RGB2YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_YCC2RGB = np.linalg.inv(_RGB2YCC)


_D = dct8_matrix()


def to_ycc(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` sRGB in [0, 1] -> JPEG YCbCr on 0-255 (chroma centred at 128), float64."""
    ycc = (np.asarray(rgb, np.float64) * 255.0) @ _RGB2YCC.T
    ycc[..., 1:] += 128.0
    return ycc


def to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_ycc`, clipped to [0, 1], float32."""
    c = ycc.copy()
    c[..., 1:] -= 128.0
    return np.clip(c @ _YCC2RGB.T / 255.0, 0.0, 1.0).astype(np.float32)


def _blocks(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    return plane.reshape(h // 8, 8, w // 8, 8).swapaxes(1, 2)


def _unblocks(b: np.ndarray) -> np.ndarray:
    nby, nbx = b.shape[:2]
    return b.swapaxes(1, 2).reshape(nby * 8, nbx * 8)


def _dct(plane: np.ndarray) -> np.ndarray:
    """Orthonormal 8x8 block DCTs (JPEG's FDCT scale) of a level-shifted plane: ``(by, bx, 8, 8)``."""
    return _D @ _blocks(plane - 128.0) @ _D.T


def _idct(coef: np.ndarray) -> np.ndarray:
    return _unblocks(_D.T @ coef @ _D) + 128.0


def _project_plane(out: np.ndarray, observed: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``out`` with every block coefficient clipped into the quantisation cell of ``observed``'s."""
    c_out, c_in = _dct(out), _dct(observed)
    k = np.round(c_in / table)
    return _idct(np.clip(c_out, (k - 0.5) * table, (k + 0.5) * table))


def _down(plane: np.ndarray, sv: int, sh: int) -> np.ndarray:
    h, w = plane.shape
    return plane.reshape(h // sv, sv, w // sh, sh).mean(axis=(1, 3))


def _luma255(x: np.ndarray) -> np.ndarray:
    return to_ycc(x)[..., 0] if x.shape[2] == 3 else np.asarray(x[..., 0], np.float64) * 255.0


def lattice_distance(observed: np.ndarray, tables: JpegTables, *, rows: int = 512) -> float:
    """Mean distance (in steps) of the decoded luma's coefficients from the file's lattice.

    Up to ``rows`` rows in 8 bands spread over the image are read (a 24-MP photo in ~0.1 s). Coefficients
    with steps >= :data:`CHECK_STEP` and magnitudes >= half a step (zeros are on any lattice) of whole blocks
    without clipped pixels count; ``nan`` when there are fewer than 64 of them.
    """
    h8, w8 = observed.shape[0] // 8 * 8, observed.shape[1] // 8 * 8
    band = max(8, rows // 8 // 8 * 8)
    starts = sorted({int(v) // 8 * 8 for v in np.linspace(0, max(0, h8 - band), 8)})
    dist = []
    for y0 in starts:
        y = _luma255(observed[y0:min(y0 + band, h8), :w8])
        b = _blocks(y)
        unclipped = (b.min(axis=(2, 3)) > 0.5) & (b.max(axis=(2, 3)) < 254.5)
        r = _dct(y)[unclipped] / tables.luma
        sel = (tables.luma >= CHECK_STEP)[None] & (np.abs(r) >= 0.5)
        dist.append(np.abs(r - np.round(r))[sel])
    d = np.concatenate(dist) if dist else np.zeros(0)
    return float(np.mean(d)) if len(d) >= 64 else float("nan")


def consistent(observed: np.ndarray, tables: JpegTables) -> bool:
    """True when ``observed`` (``(H, W, 1|3)`` in [0, 1]) reads as the file's own decoding, on its grid."""
    d = lattice_distance(observed, tables)
    return bool(d == d and d < LATTICE_TOL)


#: rows projected at a time (a multiple of every MCU height): bounds the float64 copies of a large photo
STRIP = 256


def project(output: np.ndarray, observed: np.ndarray, tables: JpegTables, *, chroma: bool = True) -> np.ndarray:
    """Clip ``output``'s block DCT coefficients into the quantisation cells of the decoded ``observed``.

    Only whole blocks (whole MCUs for subsampled chroma) are projected: a partial block at the bottom or
    right edge of a crop is not what the file stored there, so the net's result stands in it.

    Args:
        output: ``(H, W, 3)`` or ``(H, W, 1)`` restored sRGB in [0, 1].
        observed: the decoded JPEG, same shape, its grid at the origin.
        tables: the file's tables (:func:`app.core.io.jpeg_tables.jpeg_tables_from_file`).
        chroma: also project Cb / Cr (when the file has a chroma table).

    Returns:
        ``(H, W, C)`` float32 in [0, 1].
    """
    if output.shape != observed.shape:
        raise ValueError(f"project needs equal shapes, got {output.shape} and {observed.shape}")
    result = np.array(output, np.float32, copy=True)
    h, w, channels = output.shape
    sv, sh = tables.subsampling
    do_chroma = chroma and channels == 3 and tables.chroma is not None
    mh, mw = (8 * sv, 8 * sh) if do_chroma else (8, 8)
    h8, w8, hm, wm = h // 8 * 8, w // 8 * 8, h // mh * mh, w // mw * mw
    for y0 in range(0, h8, STRIP):
        y1 = min(y0 + STRIP, h8)
        out, obs = output[y0:y1, :w8], observed[y0:y1, :w8]
        if channels == 1:
            y = _project_plane(out[..., 0] * 255.0, obs[..., 0] * 255.0, tables.luma)
            result[y0:y1, :w8, 0] = np.clip(y / 255.0, 0.0, 1.0)
            continue
        yo, yi = to_ycc(out), to_ycc(obs)
        res = yo.copy()
        res[..., 0] = _project_plane(yo[..., 0], yi[..., 0], tables.luma)
        c1 = min(y1, hm) - y0  # rows of whole MCUs in this strip (STRIP is a multiple of mh)
        if do_chroma and c1 > 0 and wm > 0:
            for c in (1, 2):
                o, i = yo[:c1, :wm, c], yi[:c1, :wm, c]
                if (sv, sh) == (1, 1):
                    res[:c1, :wm, c] = _project_plane(o, i, tables.chroma)
                    continue
                small = _down(o, sv, sh)
                change = _project_plane(small, _down(i, sv, sh), tables.chroma) - small
                res[:c1, :wm, c] += cv2.resize(change, (wm, c1), interpolation=cv2.INTER_LINEAR)
        result[y0:y1, :w8] = to_rgb(res)
    return result
