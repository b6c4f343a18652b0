"""Phone-pipeline noise: sensor noise as it leaves a smartphone's image processor.

:class:`app.train.degrade.RawNoise` develops the noisy RAW with a plain camera pipeline, so its sRGB noise
is nearly white. A phone's noise has gone through much more before anyone sees it: a demosaic, the ISP's
own (weak) denoiser, sharpening, a local tone map that lifts the shadows, 4:2:0 chroma subsampling and JPEG,
and often a resize. What is left is spatially correlated, blotchy in colour and strongest in the shadows,
and a denoiser trained on white noise leaves most of it (issue 27). :class:`PhoneNoise` reproduces those
stages on top of the CycleISP sensor model.

The target is the clean photo through the *same* rendering stages that act on the signal (camera, tone
map, sharpening, resize), without the noise-only stages (the ISP denoiser, JPEG): the mean of many phone
shots of the scene, which is what real phone benchmarks use as ground truth (SIDD). The levels reach dim
indoor phone photos: shot noise up to ~15x the SIDD range's upper end over the DSLR levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.core.isp.noise import NoiseParams
from app.core.isp.synthetic_camera import process_np, sample_isp_params, unprocess_np
from app.train.degrade import Jpeg
from app.train.raw_pairs import pad_even, sensor_noise

__all__ = ["PhoneNoise", "chroma_denoise", "guided_filter", "local_tone_gain"]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def guided_filter(img: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Self-guided filter per channel (He et al.): an edge-preserving smoother many ISPs use.

    Args:
        img: float32 ``(H, W, C)``.
        radius: box radius in pixels.
        eps: regularisation; larger smooths more (variance units of ``img``).
    """
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:  # OpenCV drops a trailing single channel: keep the shape
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT).reshape(x.shape)

    mean = box(img)
    var = box(img * img) - mean * mean
    a = var / (var + eps)
    b = mean - a * mean
    return (box(a) * img + box(b)).astype(np.float32)


def local_tone_gain(srgb: np.ndarray, strength: float, sigma: float) -> np.ndarray:
    """``(H, W, 1)`` gain >= 1 that lifts regions darker than their surround (a phone's local tone map).

    Computed from the *clean* render so the same gain is applied to the noisy and the target image: the
    gain is part of the look, and noise in the lifted shadows grows with it, as on a phone.
    """
    y = srgb @ np.array([0.299, 0.587, 0.114], np.float32)
    surround = cv2.GaussianBlur(y, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    gain = ((np.mean(y) + 0.05) / (surround + 0.05)) ** strength
    return np.clip(gain, 1.0, 4.0).astype(np.float32)[..., None]


def chroma_denoise(img: np.ndarray, sigma: float) -> np.ndarray:
    """Blur the two chroma channels of YCrCb (luma untouched): every camera ISP's colour-noise reduction,
    which is why real JPEG noise is mostly luma grain with low-frequency colour blotches."""
    ycc = cv2.cvtColor(np.clip(img, 0.0, 1.0), cv2.COLOR_RGB2YCrCb)
    for c in (1, 2):
        ycc[..., c] = cv2.GaussianBlur(ycc[..., c], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _unsharp(img: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    blur = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return img + np.float32(amount) * (img - blur)


def _isp_denoise(img: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    # Weak on purpose: a phone's denoiser removes the fine grain and leaves low-frequency blotches.
    if kind == "bilateral":
        sc = float(rng.uniform(0.05, 0.2))
        out = cv2.bilateralFilter(img, 7, sc, float(rng.uniform(1.5, 3.5)))
        return out, {"kind": kind, "sigma_color": sc}
    if kind == "nlm":
        h = int(rng.integers(4, 13))
        u8 = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
        out = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 5, 11).astype(np.float32) / np.float32(255)
        return out, {"kind": kind, "h": h}
    if kind == "guided":
        eps = _log_uniform(rng, 5e-4, 1e-2)
        return guided_filter(img, int(rng.integers(1, 4)), eps), {"kind": kind, "eps": eps}
    return img, {"kind": "none"}


@dataclass
class PhoneNoise:
    """Sensor noise developed by a randomised phone-like ISP (see the module docstring).

    Attributes:
        shot_range: shot-noise variance per unit linear signal, drawn log-uniformly; the read noise follows
            the SIDD (phone) relation of :mod:`app.core.isp.noise` with its spread.
        bits: ADC depths drawn for quantisation.
        denoisers: ISP denoisers drawn uniformly (``"none"``, one draw in seven, keeps the raw grain).
        jpeg_quality: JPEG quality range (4:2:0, libjpeg through OpenCV).
        resize_p: probability of a downscale (binning/output resize) by a factor in [0.5, 0.9].
        chroma_sigma: range of the Gaussian sigma (px) of the ISP's colour-noise reduction.
    """

    shot_range: tuple[float, float] = (1e-3, 5e-2)
    bits: tuple[int, ...] = (10, 12)
    denoisers: tuple[str, ...] = ("bilateral", "nlm", "guided", "bilateral", "nlm", "guided", "none")
    jpeg_quality: tuple[int, int] = (70, 95)
    resize_p: float = 0.3
    chroma_sigma: tuple[float, float] = (1.0, 4.0)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        h, w = clean.shape[:2]
        scale = float(rng.uniform(0.5, 0.9)) if rng.uniform() < self.resize_p else 1.0
        src = clean if scale == 1.0 else cv2.resize(clean, (round(w / scale), round(h / scale)),
                                                      interpolation=cv2.INTER_CUBIC)
        padded, crop = pad_even(np.clip(src, 0.0, 1.0).astype(np.float32))
        isp = sample_isp_params(rng)
        shot = _log_uniform(rng, *self.shot_range)
        read = float(10.0 ** (1.85 * np.log10(shot) + 0.30 + rng.normal(0.0, 0.20)))
        noise = NoiseParams(shot, read, source="phone")
        raw_noisy, depth = sensor_noise(unprocess_np(padded, isp), noise, rng, self.bits)
        method = str(rng.choice(["bilinear", "malvar"]))
        noisy = process_np(raw_noisy, isp, demosaic_method=method)[crop]
        target = process_np(unprocess_np(padded, isp, mosaic=False), isp)[crop]

        noisy, den = _isp_denoise(noisy, str(rng.choice(list(self.denoisers))), rng)
        chroma_sigma = float(rng.uniform(*self.chroma_sigma))
        noisy = chroma_denoise(noisy, chroma_sigma)
        strength, sigma = float(rng.uniform(0.0, 0.6)), float(rng.uniform(6.0, 24.0))
        gain = local_tone_gain(target, strength, sigma)
        amount, radius = float(rng.uniform(0.0, 0.8)), float(rng.uniform(0.7, 1.5))
        noisy, target = (np.clip(_unsharp(x * gain, amount, radius), 0.0, 1.0) for x in (noisy, target))
        if scale != 1.0:
            noisy, target = (cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in (noisy, target))
        noisy, _, jinfo = Jpeg(self.jpeg_quality)(noisy, rng)
        info = {"noise": noise.to_dict(), "bits": depth, "demosaic": method, "isp_denoise": den,
                "chroma_sigma": chroma_sigma,
                "tone": {"strength": strength, "sigma": sigma}, "sharpen": {"amount": amount, "sigma": radius},
                "scale": scale, "jpeg": jinfo["quality"]}
        return noisy.astype(np.float32), target.astype(np.float32), info
