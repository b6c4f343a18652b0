"""RAW-domain training pairs for the RAW denoiser (Brooks et al. 2019 "unprocessing").

A clean sRGB photo is unprocessed by a random synthetic camera to packed RGGB linear RAW, then
sensor noise is added and the result quantised and clipped at white, like a real black-subtracted
mosaic (values may go below 0). The variance map fed to the denoiser is computed from the *noisy*
values, exactly as the denoise op must do at inference time when the clean signal is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.isp.noise import NoiseParams, add_noise_np, noise_variance_np, quantize_np, sample_noise_params
from app.core.isp.synthetic_camera import IspParams, sample_isp_params, unprocess_np

__all__ = ["RawPair", "make_raw_pair", "pad_even", "sensor_noise"]


@dataclass
class RawPair:
    """One RAW training sample; arrays are float32 ``(H/2, W/2, 4)`` planes R, G1, G2, B.

    Attributes:
        noisy: noisy linear RAW, <= 1, may be < 0.
        clean: clean linear RAW in [0, 1].
        variance: ``shot * max(noisy, 0) + read`` per pixel.
        isp: the camera used (process ``noisy`` with it to see the sRGB result).
        noise: the noise level.
        bits: ADC bit depth used for quantisation (``None``: none).
    """

    noisy: np.ndarray
    clean: np.ndarray
    variance: np.ndarray
    isp: IspParams
    noise: NoiseParams
    bits: int | None

    def metadata(self) -> dict[str, Any]:
        """JSON-friendly description of everything that was sampled."""
        return {"isp": self.isp.to_dict(), "noise": self.noise.to_dict(), "bits": self.bits}


def pad_even(img: np.ndarray) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Reflect-pad ``(H, W, C)`` to even H and W (mosaics need 2x2 cells); returns the crop back."""
    h, w = img.shape[:2]
    crop = (slice(0, h), slice(0, w))
    if h % 2 == 0 and w % 2 == 0:
        return np.asarray(img, np.float32), crop
    padded = np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
    return padded.astype(np.float32), crop


def sensor_noise(raw: np.ndarray, noise: NoiseParams, rng: np.random.Generator,
                 bits: Sequence[int]) -> tuple[np.ndarray, int | None]:
    """Shot/read noise on clean linear RAW, quantised to a depth drawn from ``bits`` (``()``: none), clipped
    at white as a sensor saturates. Returns the noisy RAW and the depth used."""
    noisy = add_noise_np(raw, noise, rng)
    depth = int(rng.choice(list(bits))) if len(bits) else None
    if depth is not None:
        noisy = quantize_np(noisy, depth)
    return np.minimum(noisy, np.float32(1.0)), depth


def make_raw_pair(
    clean_srgb: np.ndarray,
    rng: np.random.Generator,
    *,
    noise_model: str = "sidd",
    bits: Sequence[int] = (12, 14),
    isp: IspParams | None = None,
    noise: NoiseParams | None = None,
) -> RawPair:
    """Synthesise a noisy/clean packed-RAW pair from a clean sRGB image.

    Args:
        clean_srgb: float32 ``(H, W, 3)`` sRGB in [0, 1], H and W even.
        rng: the only source of randomness.
        noise_model: ``"dnd"``, ``"sidd"`` or ``"calibrated"`` (ignored when ``noise`` is given).
        bits: ADC bit depths to draw from; ``()`` disables quantisation.
        isp, noise: fix the camera / noise level instead of sampling them.
    """
    if clean_srgb.shape[0] % 2 or clean_srgb.shape[1] % 2:
        raise ValueError(f"make_raw_pair needs even H and W, got {clean_srgb.shape[:2]} (see pad_even)")
    isp = isp if isp is not None else sample_isp_params(rng)
    noise = noise if noise is not None else sample_noise_params(noise_model, rng)
    clean = unprocess_np(clean_srgb, isp)
    noisy, depth = sensor_noise(clean, noise, rng, bits)
    variance = noise_variance_np(noisy, noise.shot, noise.read)
    return RawPair(noisy, clean, variance, isp, noise, depth)
