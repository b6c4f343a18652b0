"""Classical restoration baselines for the quality benchmark (and sanity checks in tests).

Every baseline is a pure function ``fn(img) -> img`` on float32 sRGB ``(H, W, 3)`` in [0, 1]; the
parameters a user would tune (noise sigma, blur radius, brightening) are *estimated from the input*
with :mod:`app.core.metrics.estimators`, so the comparison with our blind models is fair. Cost on
the 2-core dev CPU for 512x512: NLM ~0.3 s, wavelet ~0.3 s, gamma / CLAHE / unsharp < 0.05 s,
Richardson-Lucy ~0.5 s, BM3D ~25 s (the benchmark runs BM3D on a 256x256 centre crop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.metrics import estimators as est
from app.core.metrics.recipe_auto import NLM_H_PER_SIGMA

Fn = Callable[[np.ndarray], np.ndarray]


def _f32(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _u8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def estimate_sigma(img: np.ndarray, coarse: bool = False) -> float:
    """Noise std ([0, 1] scale) averaged over channels, from the flattest 8x8 blocks.

    ``coarse=False``: the pixel-to-pixel part (what gradients see; robust to texture).
    ``coarse=True``: the per-pixel std including spatially correlated (demosaiced) noise, which is
    what a denoiser's strength refers to; on noise-free texture it reads higher.
    """
    vals = [est.noise_level(img[..., c])[2 if coarse else 0] for c in range(img.shape[2])]
    vals = [v for v in vals if np.isfinite(v)]
    return float(np.mean(vals)) if vals else 0.0


def identity(img: np.ndarray) -> np.ndarray:
    """The input itself: every table's floor."""
    return _f32(img)


def nlm(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """OpenCV fast non-local means (colour), h = NLM_H_PER_SIGMA x estimated (coarse) sigma, 0-255."""
    s255 = 255.0 * (estimate_sigma(img, coarse=True) if sigma is None else sigma)
    h = float(np.clip(NLM_H_PER_SIGMA * s255, 1.0, 40.0))
    out = cv2.fastNlMeansDenoisingColored(cv2.cvtColor(_u8(img), cv2.COLOR_RGB2BGR), None, h, h, 7, 21)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def bm3d_denoise(img: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """BM3D (``bm3d`` package, opponent colour space, default 'np' profile), (coarse) sigma estimated."""
    import bm3d

    s = estimate_sigma(img, coarse=True) if sigma is None else sigma
    return _f32(bm3d.bm3d_rgb(img.astype(np.float64), max(s, 1e-3)))


def wavelet(img: np.ndarray) -> np.ndarray:
    """scikit-image BayesShrink wavelet denoising in YCbCr, sigma from its own wavelet MAD estimate."""
    from skimage.restoration import denoise_wavelet

    return _f32(denoise_wavelet(img.astype(np.float64), channel_axis=-1, convert2ycbcr=True,
                                method="BayesShrink", mode="soft", rescale_sigma=True))


def adaptive_gamma(img: np.ndarray, target: float = 0.45) -> np.ndarray:
    """Power law on every channel with the exponent that maps the median luma to ``target``.

    The median (not the mean) keeps a few light sources in a night shot from deciding the curve.
    """
    med = float(np.clip(np.median(est.luma(img)), 1e-3, 0.999))
    g = float(np.clip(np.log(target) / np.log(med), 0.15, 1.0))
    return _f32(np.power(np.clip(img, 0.0, 1.0), g))


def clahe(img: np.ndarray, clip_limit: float = 3.0, tiles: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of L* (Lab), chroma untouched."""
    lab = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_RGB2LAB)
    l8 = np.clip(lab[..., 0] * 255.0 / 100.0 + 0.5, 0, 255).astype(np.uint8)
    eq = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tiles, tiles)).apply(l8)
    lab[..., 0] = eq.astype(np.float32) * 100.0 / 255.0
    return _f32(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def gamma_nlm(img: np.ndarray) -> np.ndarray:
    """Adaptive gamma, then NLM with sigma re-estimated on the brightened (noise-amplified) image."""
    return nlm(adaptive_gamma(img))


def unsharp(img: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Unsharp mask with the radius set to the estimated edge blur and a threshold above the noise."""
    g = est.luma(img)
    noise = estimate_sigma(img)
    b = est.blur_level(g, noise)
    radius = float(np.clip(b["sigma"] if np.isfinite(b["sigma"]) else 1.5, 0.8, 5.0))
    blurred = cv2.GaussianBlur(img.astype(np.float32), (0, 0), radius, borderType=cv2.BORDER_REFLECT)
    detail = img - blurred
    # Soft threshold at 2 sigma: sharpen edges, not grain.
    thr = 2.0 * noise
    detail = np.sign(detail) * np.maximum(np.abs(detail) - thr, 0.0)
    return _f32(img + amount * detail)


def richardson_lucy(img: np.ndarray, iterations: int = 15) -> np.ndarray:
    """Richardson-Lucy deconvolution with a Gaussian PSF of the estimated edge sigma (in linear light)."""
    from skimage.restoration import richardson_lucy as rl

    b = est.blur_level(est.luma(img), estimate_sigma(img))
    s = float(np.clip(b["sigma"] if np.isfinite(b["sigma"]) else 1.0, 0.5, 6.0))
    r = int(np.ceil(3 * s))
    x = np.arange(-r, r + 1)
    k = np.exp(-0.5 * (x / s) ** 2)
    psf = np.outer(k, k) / np.outer(k, k).sum()
    lin = est.srgb_to_linear(img)
    pad = 2 * r
    out = np.stack([rl(np.pad(lin[..., c], pad, mode="reflect"), psf, num_iter=iterations, clip=True)
                    [pad:-pad, pad:-pad] for c in range(3)], axis=2)
    return _f32(est.linear_to_srgb(out))


@dataclass(frozen=True)
class Baseline:
    name: str
    fn: Fn
    tasks: tuple[str, ...]
    note: str = ""
    #: run on a centre crop of this size (None: full image) to keep the benchmark in minutes
    crop: int | None = None
    #: score at most this many pairs per task (None: all), for the same reason
    max_pairs: int | None = None


_DENOISE = ("denoise-srgb", "denoise-raw", "denoise-phone")
_DEBLUR = ("deblur", "deblur-shake")
BASELINES: dict[str, Baseline] = {b.name: b for b in (
    Baseline("identity", identity, (*_DENOISE, "lowlight", *_DEBLUR), "input as is"),
    Baseline("nlm", nlm, _DENOISE, f"OpenCV fastNlMeansDenoisingColored, h={NLM_H_PER_SIGMA}*sigma_est"),
    Baseline("bm3d", bm3d_denoise, _DENOISE, "bm3d.bm3d_rgb, sigma_est; 256x256 centre crop, first 2 pairs",
             crop=256, max_pairs=2),
    Baseline("wavelet", wavelet, _DENOISE, "skimage denoise_wavelet BayesShrink, YCbCr"),
    Baseline("gamma", adaptive_gamma, ("lowlight",), "adaptive gamma: median luma -> 0.45"),
    Baseline("clahe", clahe, ("lowlight",), "CLAHE on L*, clip 3, 8x8 tiles"),
    Baseline("gamma+nlm", gamma_nlm, ("lowlight",), "adaptive gamma then NLM (sigma re-estimated)"),
    Baseline("unsharp", unsharp, _DEBLUR, "unsharp mask, radius = estimated edge sigma"),
    Baseline("richardson_lucy", richardson_lucy, _DEBLUR, "RL 15 it., Gaussian PSF of estimated sigma"),
)}


def baselines_for(task: str) -> list[Baseline]:
    """The baselines that make sense for a benchmark task, identity first."""
    return [b for b in BASELINES.values() if task in b.tasks]


# -- JPEG deblocking (bench task "dejpeg") -----------------------------------------------------------------

def spp_deblock(img: np.ndarray, quality: float, factor: float = 0.35, step: int = 1) -> np.ndarray:
    """Shifted-DCT requantisation deblocking (the idea of ffmpeg's ``spp`` filter / Nosratinia's).

    In YCbCr (JPEG's full-range BT.601), every 8x8 grid shifted by ``(dy, dx)`` (multiples of ``step``)
    is DCT'd, AC coefficients below ``factor`` x the IJG quantiser step of ``quality`` are zeroed, and the
    inverse transforms of all shifts are averaged. ``factor`` was picked on six 256-px training-split crops
    (urban100, live1, wallpapers) at q20/q40 among 0.25-1.25: 0.35 gave +0.64 / +0.76 dB (1.0: -0.19 / -0.37).
    Costs ~0.7 s for 256x256 at ``step=1`` (64 shifts) on the shared dev CPU.
    """
    from app.core.io.jpeg_tables import IJG_CHROMA, IJG_LUMA, dct8_matrix, ijg_table

    d = dct8_matrix()
    u8 = np.clip(img, 0.0, 1.0) * 255.0
    ycc = cv2.cvtColor(u8.astype(np.float32), cv2.COLOR_RGB2YCrCb).astype(np.float64)
    tables = [ijg_table(IJG_LUMA, quality), ijg_table(IJG_CHROMA, quality), ijg_table(IJG_CHROMA, quality)]
    h, w = ycc.shape[:2]
    pad = np.pad(ycc, ((8, 16), (8, 16), (0, 0)), mode="reflect")
    out = np.zeros_like(pad)
    count = np.zeros(pad.shape[:2])
    for dy in range(0, 8, step):
        for dx in range(0, 8, step):
            nby, nbx = (pad.shape[0] - dy) // 8, (pad.shape[1] - dx) // 8
            sub = pad[dy:dy + 8 * nby, dx:dx + 8 * nbx]
            blocks = sub.reshape(nby, 8, nbx, 8, 3).transpose(0, 2, 4, 1, 3)  # (by, bx, c, 8, 8)
            coef = d @ blocks @ d.T
            for c, t in enumerate(tables):
                keep = np.abs(coef[:, :, c]) >= factor * t
                keep[..., 0, 0] = True
                coef[:, :, c] *= keep
            rec = (d.T @ coef @ d).transpose(0, 3, 1, 4, 2).reshape(8 * nby, 8 * nbx, 3)
            out[dy:dy + 8 * nby, dx:dx + 8 * nbx] += rec
            count[dy:dy + 8 * nby, dx:dx + 8 * nbx] += 1
    res = (out / np.maximum(count, 1)[..., None])[8:8 + h, 8:8 + w].astype(np.float32)
    return _f32(cv2.cvtColor(res, cv2.COLOR_YCrCb2RGB) / 255.0)
