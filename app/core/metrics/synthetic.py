"""Degradations of exactly known level, for validating the estimators (not for training).

Training data synthesis (camera pipeline, realistic noise, shake trajectories) lives in
``app/train/degrade.py``; these are the textbook parametric versions whose level is unambiguous:
additive Gaussian noise of sigma s, Gaussian blur of sigma s, linear motion of length L, a linear
exposure factor k, JPEG at quality q. All take and return float32 sRGB ``(H, W, 3)`` in [0, 1] and
quantise to 8 bits like a saved photo would be.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.metrics.estimators import linear_to_srgb, srgb_to_linear


def quantise8(x: np.ndarray) -> np.ndarray:
    return (np.round(np.clip(x, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def add_gaussian_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise of std ``sigma`` ([0, 1] scale), clipped and quantised."""
    return quantise8(img + rng.normal(0.0, sigma, img.shape))


def add_heteroscedastic_noise(img: np.ndarray, a: float, b: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with variance ``a * x + b`` at intensity x (the shot + read model), without quantisation."""
    std = np.sqrt(a * np.clip(img, 0, 1) + b)
    return np.clip(img + rng.normal(0.0, 1.0, img.shape) * std, 0.0, 1.0).astype(np.float32)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return quantise8(cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT))


def motion_kernel(length: float, angle_deg: float, supersample: int = 8) -> np.ndarray:
    """Normalised kernel of a straight motion ``length`` px long at ``angle_deg`` (0 = horizontal)."""
    size = int(np.ceil(length)) | 1
    big = np.zeros((size * supersample, size * supersample), np.float32)
    c = (size * supersample - 1) / 2.0
    dx = np.cos(np.radians(angle_deg)) * (length - 1) * supersample / 2.0
    dy = -np.sin(np.radians(angle_deg)) * (length - 1) * supersample / 2.0
    cv2.line(big, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, thickness=supersample)
    k = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    return k / k.sum()


def motion_blur(img: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """Blur with :func:`motion_kernel`, in linear light (as a real exposure integrates)."""
    lin = srgb_to_linear(img).astype(np.float32)
    out = cv2.filter2D(lin, -1, motion_kernel(length, angle_deg), borderType=cv2.BORDER_REFLECT)
    return quantise8(linear_to_srgb(out))


def underexpose(img: np.ndarray, factor: float) -> np.ndarray:
    """Scale exposure by ``factor`` (< 1 darkens) in linear light, then re-encode 8-bit sRGB."""
    return quantise8(linear_to_srgb(srgb_to_linear(img) * factor))


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through OpenCV's (libjpeg) encoder at ``quality`` (4:2:0 chroma)."""
    u8 = (np.clip(img, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    bgr = cv2.cvtColor(u8, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
