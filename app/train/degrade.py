"""Composable, seeded degradations that turn clean photos into training pairs.

Every degradation follows one protocol::

    degraded, target, info = deg(clean, rng)

``clean``: float32 ``(H, W, 3)`` sRGB in [0, 1]; ``rng``: a ``numpy.random.Generator``, the only
source of randomness (same seed, same output); ``degraded`` and ``target`` have ``clean``'s shape;
``info`` records everything sampled (camera, noise level, kernel, quality) as plain JSON-friendly
values, except ``MotionBlur``'s ``info["kernel"]``, a float32 array.

Physics lives in linear light: noise is added to linear camera RAW and developed to sRGB by the
synthetic camera of :mod:`app.core.isp` (the CycleISP way); motion blur and exposure changes act
on linear values. Synthesis runs torch on single images: in data-loader workers keep torch at one
thread (``DataLoader`` does this), on a shared 2-core machine extra threads only spin.

Real blurred pairs from video frames are a *source*, not a degradation: see :mod:`app.train.gopro`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from app.core.isp.noise import add_noise_np, quantize_np, sample_noise_params
from app.core.isp.synthetic_camera import process_np, sample_isp_params, unprocess_np
from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np
from app.train.blur_kernels import random_motion_kernel
from app.train.raw_pairs import make_raw_pair, pad_even, sensor_noise

__all__ = ["Degradation", "Compose", "RandomApply", "OneOf", "RawNoise", "LowLight", "MotionBlur", "Jpeg",
           "KeepClean"]

Result = tuple[np.ndarray, np.ndarray, dict[str, Any]]


@runtime_checkable
class Degradation(Protocol):
    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result: ...


def _children(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    # Independent child streams: adding or reconfiguring one stage does not change what the others draw.
    return [np.random.default_rng(s) for s in rng.integers(0, 2**63 - 1, size=n)]


def _name(deg: Any) -> str:
    return type(deg).__name__


class Compose:
    """Apply degradations in order; each sees the previous one's output.

    The target is the *first* stage's target (the clean image, possibly re-rendered by the synthetic
    camera); later stages' targets are clean versions of already-degraded inputs, which is not
    what a restoration model should learn. ``info = {"stages": [{"name": ..., **stage_info}, ...]}``.
    """

    def __init__(self, stages: Sequence[Degradation]) -> None:
        if not stages:
            raise ValueError("Compose needs at least one stage")
        self.stages = list(stages)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        x, target, infos = clean, None, []
        for stage, child in zip(self.stages, _children(rng, len(self.stages))):
            x, t, info = stage(x, child)
            target = t if target is None else target
            infos.append({"name": _name(stage), **info})
        return x, target, {"stages": infos}


@dataclass
class RandomApply:
    """Apply ``deg`` with probability ``p``; otherwise pass the image through unchanged."""

    deg: Degradation
    p: float = 0.5

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        apply, child = rng.uniform() < self.p, _children(rng, 1)[0]
        if not apply:
            return clean, clean, {"applied": False}
        x, t, info = self.deg(clean, child)
        return x, t, {"applied": True, "name": _name(self.deg), **info}


@dataclass
class OneOf:
    """Apply one of ``options``, chosen with probabilities ``weights`` (uniform by default)."""

    options: Sequence[Degradation]
    weights: Sequence[float] | None = None

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        p = None if self.weights is None else np.asarray(self.weights, float) / np.sum(self.weights)
        i = int(rng.choice(len(self.options), p=p))
        x, t, info = self.options[i](clean, _children(rng, 1)[0])
        return x, t, {"choice": i, "name": _name(self.options[i]), **info}


@dataclass
class RawNoise:
    """Realistic sRGB noise: unprocess to RAW, add shot/read noise, quantise, process back.

    Attributes:
        noise_model: ``"dnd"``, ``"sidd"`` or ``"calibrated"`` (see :mod:`app.core.isp.noise`).
        bits: ADC bit depths to draw from (``()``: no quantisation).
        demosaic: ``"bilinear"`` or ``"malvar"``.

    The target is the clean image rendered by the same camera *without* the mosaic step: equal to
    ``clean`` for in-gamut colours, and consistent with the degraded image's highlight handling.
    """

    noise_model: str = "sidd"
    bits: Sequence[int] = (12, 14)
    demosaic: str = "bilinear"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        padded, crop = pad_even(clean)
        pair = make_raw_pair(padded, rng, noise_model=self.noise_model, bits=self.bits)
        degraded = process_np(pair.noisy, pair.isp, demosaic_method=self.demosaic)[crop]
        target = process_np(unprocess_np(padded, pair.isp, mosaic=False), pair.isp)[crop]
        return degraded, target, pair.metadata()


@dataclass
class LearnedRawNoise:
    """:class:`RawNoise` through the *learned* camera pipeline (CycleISP's synthesis).

    The exported ``cycleisp_learned_isp`` maps the clean sRGB to RAW (RGB2RAW), sensor noise is added
    and quantised as in :class:`RawNoise`, and RAW2RGB renders both the noisy and the clean RAW with the
    colour attention of the clean sRGB; the pair is (noisy render, clean render), so the two differ by
    the noise alone, as in the paper.

    Attributes:
        noise_model, bits: as :class:`RawNoise`.
        model_id: the learned pipeline's model id (verified through the registry).
    """

    noise_model: str = "sidd"
    bits: Sequence[int] = (12, 14)
    model_id: str = "cycleisp_learned_isp"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        import torch

        from app.train.frozen import frozen_model

        isp = frozen_model(self.model_id, torch.device("cpu"))
        padded, crop = pad_even(clean)
        srgb = torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1)))[None]
        with torch.inference_mode():
            raw = isp.rgb2raw(srgb).clamp(0.0, 1.0)[0].permute(1, 2, 0).numpy()
        noise = sample_noise_params(self.noise_model, rng)
        noisy, depth = sensor_noise(raw, noise, rng, self.bits)
        both = torch.from_numpy(np.ascontiguousarray(np.stack([noisy, raw]).transpose(0, 3, 1, 2)))
        with torch.inference_mode():
            out = isp.raw2rgb(both, srgb.expand(2, -1, -1, -1)).clamp(0.0, 1.0).permute(0, 2, 3, 1).numpy()
        return out[0][crop], out[1][crop], {"noise": noise.to_dict(), "bits": depth, "isp": "learned"}


@dataclass
class LowLight:
    """Under-exposure: divide linear RAW by a random factor, add sensor noise, quantise, develop.

    Attributes:
        ratio_range: exposure reduction factor, drawn log-uniformly (inclusive bounds).
        noise_model: noise model name, or ``None`` for a noiseless (exactly scaled) exposure.
        bits: ADC bit depths to draw from (``()``: no quantisation).
        demosaic: ``"bilinear"`` or ``"malvar"``.

    The camera's gains are kept, so the output is dark, as a real under-exposed JPEG would be;
    the target is the normally exposed clean render.
    """

    ratio_range: tuple[float, float] = (3.0, 20.0)
    noise_model: str | None = "sidd"
    bits: Sequence[int] = (10, 12, 14)
    demosaic: str = "bilinear"

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        padded, crop = pad_even(clean)
        isp = sample_isp_params(rng)
        lo, hi = self.ratio_range
        ratio = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        raw = unprocess_np(padded, isp) / np.float32(ratio)
        info: dict[str, Any] = {"ratio": ratio, "isp": isp.to_dict(), "noise": None, "bits": None}
        if self.noise_model is not None:
            noise = sample_noise_params(self.noise_model, rng)
            raw = np.minimum(add_noise_np(raw, noise, rng), 1.0)
            info["noise"] = noise.to_dict()
        if self.bits:
            info["bits"] = int(rng.choice(list(self.bits)))
            raw = quantize_np(raw, info["bits"])
        degraded = process_np(raw, isp, demosaic_method=self.demosaic)[crop]
        target = process_np(unprocess_np(padded, isp, mosaic=False), isp)[crop]
        return degraded, target, info


@dataclass
class MotionBlur:
    """Camera-shake blur with a random trajectory kernel, applied in linear light.

    Attributes:
        length_range, curvature_range: see :func:`app.train.blur_kernels.random_motion_kernel`.
        linear: convolve linear values (physically right) rather than sRGB values.
    """

    length_range: tuple[float, float] = (4.0, 32.0)
    curvature_range: tuple[float, float] = (0.0, 1.0)
    linear: bool = True

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        kernel, info = random_motion_kernel(
            rng, length_range=self.length_range, curvature_range=self.curvature_range
        )
        x = srgb_to_linear_np(clean) if self.linear else np.ascontiguousarray(clean, np.float32)
        # filter2D correlates; the flip makes it a convolution, so ``info["kernel"]`` is the PSF itself.
        blurred = cv2.filter2D(x, -1, kernel[::-1, ::-1].copy(), borderType=cv2.BORDER_REFLECT)
        if self.linear:
            blurred = linear_to_srgb_np(blurred, out=blurred)
        info["kernel"] = kernel
        return blurred.astype(np.float32), np.asarray(clean, np.float32), info


@dataclass
class Jpeg:
    """JPEG compression (libjpeg through OpenCV, 4:2:0) at a random quality; target = input."""

    quality_range: tuple[int, int] = (30, 95)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        q = int(rng.integers(self.quality_range[0], self.quality_range[1] + 1))
        u8 = np.round(np.clip(clean, 0.0, 1.0) * 255.0).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return out.astype(np.float32) / np.float32(255.0), np.asarray(clean, np.float32), {"quality": q}


@dataclass
class KeepClean:
    """A photo with nothing to fix: input = target, sometimes after a good JPEG (``jpeg_p``, ``quality_range``).

    Mixed into a restoration task's pairs so the net learns to leave clean photos (and their fine texture
    and JPEG grain) alone: a blind denoiser trained on noisy pairs only smooths everything it sees (issue 27's
    no-harm row).
    """

    jpeg_p: float = 0.5
    quality_range: tuple[int, int] = (80, 98)

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> Result:
        x = np.asarray(clean, np.float32)
        if rng.uniform() < self.jpeg_p:
            x, _, info = Jpeg(self.quality_range)(x, rng)
            return x, x, {"jpeg": info["quality"]}
        return x, x, {"jpeg": None}
