"""FFT helpers shared by kernel estimation and deconvolution: padding, OTFs, gradients, kernel tidying.

Convolutions here are circular (FFT). Photos are not periodic, so every caller pads with
:func:`pad_periodic` first: a reflected margin that fades to the border's mean, which makes the padded
array continuous across the wrap-around and keeps ringing from the frame edges inside the margin.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy import ndimage


def fast_shape(h: int, w: int) -> tuple[int, int]:
    return sfft.next_fast_len(h, real=True), sfft.next_fast_len(w, real=True)


def pad_periodic(img: np.ndarray, margin: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Pad a 2-D array by at least ``margin`` px so that it is smooth across the FFT's wrap-around.

    Returns the padded array (an FFT-friendly shape) and the (top, left) offset of the original.
    """
    h, w = img.shape
    H, W = fast_shape(h + 2 * margin, w + 2 * margin)
    top, left = (H - h) // 2, (W - w) // 2
    bottom, right = H - h - top, W - w - left
    # reflection is limited to the image's own size; very small images fall back to edge padding
    mode = "reflect" if min(h, w) > max(top, left, bottom, right) else "edge"
    p = np.pad(img, ((top, bottom), (left, right)), mode=mode).astype(np.float32)
    border = float(np.mean(np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])))

    def ramp(n: int, a: int, b: int) -> np.ndarray:
        # 1 inside the image, falling smoothly (raised cosine) to 0 at the outer edge of each margin
        r = np.ones(n, np.float32)
        if a:
            r[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
        if b:
            r[n - b:] = 0.5 - 0.5 * np.cos(np.pi * np.arange(b, 0, -1) / b)
        return r

    wgt = ramp(H, top, bottom)[:, None] * ramp(W, left, right)[None, :]
    return p * wgt + border * (1.0 - wgt), (top, left)


def psf2otf(psf: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Real-FFT transfer function of a centred PSF for arrays of ``shape``."""
    buf = np.zeros(shape, np.float32)
    kh, kw = psf.shape
    buf[:kh, :kw] = psf
    buf = np.roll(buf, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return sfft.rfft2(buf, workers=-1)


def otf2psf(otf: np.ndarray, shape: tuple[int, int], size: int) -> np.ndarray:
    buf = sfft.irfft2(otf, s=shape, workers=-1)
    buf = np.roll(buf, (size // 2, size // 2), axis=(0, 1))
    return buf[:size, :size]


def grad_otfs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """OTFs of the forward differences x[i+1]-x[i] along columns (dx) and rows (dy)."""
    dx = np.zeros((3, 3), np.float32)
    dx[1, 1], dx[1, 2] = -1.0, 1.0
    return psf2otf(dx[::-1, ::-1].copy(), shape), psf2otf(dx.T[::-1, ::-1].copy(), shape)


def grads(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circular forward differences (match :func:`grad_otfs`); slicing, not np.roll (no extra copies)."""
    gx, gy = np.empty_like(x), np.empty_like(x)
    np.subtract(x[:, 1:], x[:, :-1], out=gx[:, :-1])
    np.subtract(x[:, :1], x[:, -1:], out=gx[:, -1:])
    np.subtract(x[1:], x[:-1], out=gy[:-1])
    np.subtract(x[:1], x[-1:], out=gy[-1:])
    return gx, gy


def div(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Adjoint of :func:`grads` (negative divergence)."""
    out = np.empty_like(gx)
    np.subtract(gx[:, :-1], gx[:, 1:], out=out[:, 1:])
    np.subtract(gx[:, -1:], gx[:, :1], out=out[:, :1])
    out[1:] += gy[:-1] - gy[1:]
    out[:1] += gy[-1:] - gy[:1]
    return out


def tidy_kernel(k: np.ndarray, rel_threshold: float = 0.05) -> np.ndarray:
    """Project a kernel estimate onto plausible kernels: non-negative, weak values and stray specks
    removed, centre of mass moved to the centre (so the deblurred image does not shift), sum 1."""
    k = np.maximum(k, 0.0)
    if k.max() <= 0:
        out = np.zeros_like(k)
        out[k.shape[0] // 2, k.shape[1] // 2] = 1.0
        return out
    k[k < rel_threshold * k.max()] = 0.0
    labels, n = ndimage.label(k > 0, structure=np.ones((3, 3)))
    if n > 1:
        mass = ndimage.sum(k, labels, index=np.arange(1, n + 1))
        keep = np.isin(labels, 1 + np.flatnonzero(mass >= 0.1 * mass.max()))
        k = np.where(keep, k, 0.0)
    k = k / k.sum()
    cy, cx = ndimage.center_of_mass(k)
    c = k.shape[0] // 2
    # whole-pixel shift only: a sub-pixel one would blur the kernel a little at every iteration
    k = ndimage.shift(k, (round(c - cy), round(c - cx)), order=0, mode="constant")
    k = np.maximum(k, 0.0)
    return (k / k.sum()).astype(np.float32)


def centre_subpixel(k: np.ndarray) -> np.ndarray:
    """Move the centre of mass exactly onto the centre pixel (cubic spline shift, once, at the end):
    a kernel off by half a pixel shifts the whole deblurred photo by as much, which costs dB."""
    cy, cx = ndimage.center_of_mass(k)
    c = k.shape[0] // 2
    out = np.maximum(ndimage.shift(k.astype(np.float64), (c - cy, c - cx), order=3, mode="constant"), 0.0)
    return (out / out.sum()).astype(np.float32)


def resize_kernel(k: np.ndarray, size: int) -> np.ndarray:
    import cv2

    out = np.maximum(cv2.resize(k.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR), 0.0)
    s = out.sum()
    return out / s if s > 0 else out


def kernel_spread(k: np.ndarray) -> float:
    """RMS radius (px) of a kernel about its centre of mass: 0 for a delta, ~L/3.5 for a line of length L."""
    yy, xx = np.mgrid[: k.shape[0], : k.shape[1]]
    s = k.sum()
    cy, cx = (k * yy).sum() / s, (k * xx).sum() / s
    return float(np.sqrt((k * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum() / s))
