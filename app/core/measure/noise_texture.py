"""Two noise figures that tell camera noise from texture, where the flat-block estimators cannot.

The flat-block figures of :mod:`estimators` (Immerkaer's residual, the block plane residual) read the
*quietest* 5 % of a photo. That fails both ways on real photos (labelled train split, bench/auto_labelled.py):

* a sharp, busy photo (grass, gravel, a city) has no quiet block, so its texture reads as 4-8/255 of
  "noise" and it was called noisy;
* a camera JPEG at ISO 1600-6400 (PolyU) has its flattest blocks zeroed by the JPEG quantisation, so
  its grain reads 0.1-0.8/255, like a clean photo's. Over 54 flat-block variants (luma and chroma,
  scales 1-4, quantiles 5-50 %) none ranked PolyU's noisy crops above clean photos (ROC AUC <= 0.39).

Two measurements that use what noise is rather than where it is quiet:

* :func:`chroma_noise`: sensor noise is independent per photosite, so after demosaicing it has a colour
  part; texture is mostly luminance. The quietest blocks of the colour-difference planes (R - Y, B - Y)
  at half resolution: on the train split, busy clean photos read <= 6/255, photos with synthetic camera
  noise (RawNoise, PhoneNoise) mostly 7-40.
* :func:`method_noise`: the "method noise" of a conservative non-local-means (Buades, Coll & Morel 2005):
  NLM with a small filter strength ``h`` averages patches that differ by less than ~h, which is what
  low-level noise around otherwise smooth content does, while a texture's patches differ by much more
  and stay. The median over 8x8 blocks of what it removes: every PolyU train crop reads above its own
  clean (500-shot mean) reference (0.84-2.31 against 0-1.31), clean photos 0-2.0 (mostly <= 1.2; JPEG
  quantisation error counts too, so q85 artworks read up to 1.4). Strong noise reads low here (its
  patches differ by more than h too): that is the flat-block and chroma figures' job.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.measure.estimators import NOISE_QUANTILE, luma, noise_blocks

#: NLM filter strength (0-255) of the method-noise test: about the grain of a camera JPEG at high ISO
METHOD_NOISE_H = 3.0
#: the method noise is measured on at most this many TILE x TILE windows spread over the photo (bounded
#: cost on big photos: NLM is ~0.3 s per 512 x 512 on one core)
TILES, TILE = 4, 256
#: the colour noise is measured on a central window of at most this size
CHROMA_WINDOW = 1024


def chroma_noise(rgb: np.ndarray) -> float:
    """Quietest-block noise of the colour-difference planes, per-pixel equivalent on the [0, 1] scale.

    Args:
        rgb: ``(H, W, 3)`` sRGB in [0, 1].

    Returns:
        The larger of the R - Y and B - Y figures: the 5th percentile of 8x8 block RMS around a best-fit
        plane at half resolution, times 2 (white noise halves when 2x2 pixels are averaged). NaN for a
        grey image (no colour-difference signal) or one too small.
    """
    x = np.asarray(rgb, np.float64)
    if x.ndim != 3 or x.shape[2] < 3 or np.ptp(x[..., :3], axis=2).max() < 1e-6:
        return float("nan")
    # a central window bounds the cost on big photos (even offsets keep the 2x2 binning's phase)
    y0, x0 = max(0, (x.shape[0] - CHROMA_WINDOW) // 4 * 2), max(0, (x.shape[1] - CHROMA_WINDOW) // 4 * 2)
    x = x[y0:y0 + CHROMA_WINDOW, x0:x0 + CHROMA_WINDOW]
    y = luma(x)
    out = []
    for c in (0, 2):
        d = x[..., c] - y + 0.5
        h, w = d.shape[0] // 2 * 2, d.shape[1] // 2 * 2
        half = d[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        _, _, plane = noise_blocks(half)
        if len(plane) >= 20:
            out.append(2.0 * float(np.quantile(plane, NOISE_QUANTILE)))
    return max(out) if out else float("nan")


def _tiles(y: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """``(row, column, window)`` of the method-noise windows of luma ``y``."""
    h, w = y.shape
    if h * w <= TILES * TILE * TILE:
        return [(0, 0, y)]
    # centred on the quadrants of the middle of the frame: away from borders and vignetting
    out = []
    for fy in (0.35, 0.65):
        for fx in (0.35, 0.65):
            y0 = int(np.clip(fy * h - TILE / 2, 0, max(h - TILE, 0)))
            x0 = int(np.clip(fx * w - TILE / 2, 0, max(w - TILE, 0)))
            out.append((y0, x0, y[y0:y0 + TILE, x0:x0 + TILE]))
    return out


def method_noise(rgb: np.ndarray, h: float = METHOD_NOISE_H) -> float:
    """Median over 8x8 blocks of the std of what a gentle NLM removes from the luma, [0, 1] scale.

    Args:
        rgb: ``(H, W, 3)`` or ``(H, W)`` sRGB in [0, 1] (measured on 8-bit luma, as NLM needs).
        h: NLM filter strength on the 0-255 scale.
    """
    return method_noise_figures(rgb, h=h)[0]


def method_noise_figures(rgb: np.ndarray, grid: tuple[int, int] = (7, 7),
                         h: float = METHOD_NOISE_H) -> tuple[float, float]:
    """``(method noise, block-edge ratio)``: :func:`method_noise` and where on the JPEG grid it sits.

    The ratio is the mean square of what the NLM removes on the pixel rows and columns either side of the
    8x8 block edges over that on the other six (average of the two axes; ~1 without JPEG history). Noise
    under a camera JPEG's quantisation survives mostly in each block's mean and lowest frequencies, which
    differ at random from block to block: steps at the block edges of smooth areas that the NLM removes.
    Clean content at the same quality changes smoothly from block to block. On the train split, the
    PolyU noisy crops read 1.52-1.67 against 1.34-1.61 for their own mean references (q75 JPEGs both).

    Args:
        rgb: as :func:`method_noise`.
        grid: ``(row, column)`` phase of the block edges in ``rgb``
            (:func:`app.core.measure.estimators.jpeg_blockiness`: an edge between pixels ``p`` and ``p + 1``).
        h: NLM filter strength on the 0-255 scale.

    Returns:
        Both figures, NaN when the image is too small (the ratio also when the NLM removed nothing).
    """
    x = np.asarray(rgb, np.float64)
    y = luma(x) if x.ndim == 3 else x
    if min(y.shape) < 32:
        return float("nan"), float("nan")
    stds, edge, other = [], np.zeros(2), np.zeros(2)
    for y0, x0, t in _tiles(y):
        t8 = np.clip(t * 255.0 + 0.5, 0, 255).astype(np.uint8)
        den = cv2.fastNlMeansDenoising(t8, None, h=h, templateWindowSize=7, searchWindowSize=15)
        r = t8.astype(np.float64) - den
        hh, ww = r.shape[0] // 8 * 8, r.shape[1] // 8 * 8
        stds.append(r[:hh, :ww].reshape(hh // 8, 8, ww // 8, 8).std(axis=(1, 3)).ravel())
        for axis, (phase, off) in enumerate(((grid[0], y0), (grid[1], x0))):
            e = (r * r).mean(axis=1 - axis)  # per row (axis 0) or per column (axis 1)
            at = (np.arange(len(e)) + off - phase) % 8
            near = (at == 0) | (at == 1)
            edge[axis] += e[near].mean()
            other[axis] += e[~near].mean()
    ratio = float(np.mean(edge / other)) if np.all(other > 1e-9) else float("nan")
    return float(np.median(np.concatenate(stds)) / 255.0), ratio
