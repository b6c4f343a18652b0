"""Sensor noise in linear RAW: heteroscedastic Gaussian shot + read noise, and quantisation.

Model (Foi et al. 2008; Brooks et al. 2019; CycleISP): for a clean linear RAW value ``x`` in
[0, 1] (normalised between black and white level) the noisy observation is
``y = x + n``, ``n ~ N(0, shot * x + read)``.
``shot`` is the Poisson (photon) term, proportional to the analogue gain / ISO; ``read`` is the
signal-independent floor, growing roughly with the square of the gain.

Noise levels are drawn from one of three sources (:func:`sample_noise_params`):

* ``"dnd"``: log10(shot) ~ U(log10 1e-4, log10 0.012), log10(read) = 2.18 log10(shot) + 1.20 + N(0, 0.26)
* ``"sidd"``: shot in [6.87e-4, 2.19e-2] (log-uniform), log10(read) = 1.85 log10(shot) + 0.30 + N(0, 0.20)
* ``"calibrated"``: a camera measured by ``python -m app.train.calibrate_noise``
  (``noise_calibration.json``), at a log-uniform ISO, through its ISO relation.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "NoiseParams",
    "NOISE_MODELS",
    "CALIBRATION_PATH",
    "sample_noise_params",
    "add_noise",
    "add_noise_np",
    "noise_variance",
    "noise_variance_np",
    "quantize",
    "quantize_np",
    "load_calibration",
    "calibrated_noise_params",
]

CALIBRATION_PATH = Path(__file__).with_name("noise_calibration.json")


@dataclass(frozen=True)
class NoiseParams:
    """One noise level: variance ``shot * x + read`` for linear RAW ``x`` in [0, 1]."""

    shot: float
    read: float
    source: str = ""
    camera: str = ""
    iso: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LogLinearModel:
    """``log10(shot) ~ U(lo, hi)``, ``log10(read) = slope * log10(shot) + intercept + N(0, sigma)``."""

    log_shot_range: tuple[float, float]
    slope: float
    intercept: float
    sigma: float


NOISE_MODELS: dict[str, LogLinearModel] = {
    "dnd": LogLinearModel((math.log10(1e-4), math.log10(0.012)), 2.18, 1.20, 0.26),
    "sidd": LogLinearModel((math.log10(6.87e-4), math.log10(2.19e-2)), 1.85, 0.30, 0.20),
}


def sample_noise_params(model: str, rng: np.random.Generator, *, camera: str | None = None) -> NoiseParams:
    """Draw (shot, read) from a noise model.

    Args:
        model: ``"dnd"``, ``"sidd"`` or ``"calibrated"``.
        rng: numpy random generator (the only source of randomness).
        camera: for ``"calibrated"``, a camera name from the calibration file (random otherwise).
    """
    if model in NOISE_MODELS:
        m = NOISE_MODELS[model]
        log_shot = rng.uniform(*m.log_shot_range)
        log_read = m.slope * log_shot + m.intercept + rng.normal(0.0, m.sigma)
        return NoiseParams(float(10.0**log_shot), float(10.0**log_read), source=model)
    if model == "calibrated":
        cal = load_calibration()
        rel = cal["iso_relation"]
        names = sorted(n for n, c in cal["cameras"].items() if c.get("use_for_sampling"))
        name = camera if camera is not None else names[int(rng.integers(len(names)))]
        entry = cal["cameras"][name]
        if entry.get("iso") and entry.get("iso_range"):
            lo, hi = entry["iso_range"]
            iso: float | None = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            ratio = iso / float(entry["iso"])
        else:  # exposure of unknown ISO: vary the gain around it instead
            iso, ratio = None, float(math.exp(rng.uniform(*np.log(rel["default_gain_range"]))))
        jitter = rel.get("log10_jitter", 0.0)
        shot = entry["shot"] * ratio ** rel["shot_exponent"] * 10.0 ** rng.normal(0.0, jitter)
        read = entry["read"] * ratio ** rel["read_exponent"] * 10.0 ** rng.normal(0.0, jitter)
        return NoiseParams(float(shot), float(read), source="calibrated", camera=name, iso=iso)
    raise ValueError(f"unknown noise model {model!r}; expected one of {[*NOISE_MODELS, 'calibrated']}")


def _per_sample(v: float | Tensor, x: Tensor) -> Tensor:
    """A scalar or ``(B,)`` parameter shaped to broadcast against ``(B, C, H, W)``."""
    t = torch.as_tensor(v, dtype=x.dtype, device=x.device)
    return t.reshape(-1, *([1] * (x.ndim - 1))) if t.ndim == 1 else t


def noise_variance(x: Tensor, shot: float | Tensor, read: float | Tensor) -> Tensor:
    """Per-pixel variance ``shot * max(x, 0) + read``.

    Args:
        x: ``(B, C, H, W)`` linear RAW (clean, or noisy when estimating the map a denoiser is fed).
        shot, read: floats or ``(B,)`` tensors.

    Returns:
        Tensor shaped like ``x``, > 0 whenever ``read`` > 0.
    """
    return _per_sample(shot, x) * x.clamp(min=0.0) + _per_sample(read, x)


def add_noise(
    x: Tensor, shot: float | Tensor, read: float | Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Add heteroscedastic Gaussian noise with variance :func:`noise_variance` of the clean ``x``.

    Args:
        x: ``(B, C, H, W)`` clean linear RAW in [0, 1].
        shot, read: floats or ``(B,)`` tensors.
        generator: torch generator for reproducible noise.

    Returns:
        Noisy tensor (unclipped: black-level-subtracted RAW legitimately goes below 0).
    """
    std = noise_variance(x, shot, read).sqrt()
    return x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def noise_variance_np(x: np.ndarray, shot: float, read: float) -> np.ndarray:
    """Numpy :func:`noise_variance` (float32, any shape)."""
    return (np.float32(shot) * np.maximum(x, 0.0, dtype=np.float32) + np.float32(read)).astype(np.float32)


def add_noise_np(x: np.ndarray, params: NoiseParams, rng: np.random.Generator) -> np.ndarray:
    """Numpy :func:`add_noise` for data synthesis: float32 ``x`` of any shape, ``rng`` draws the noise."""
    std = np.sqrt(noise_variance_np(x, params.shot, params.read))
    return (x + std * rng.standard_normal(x.shape, dtype=np.float32)).astype(np.float32)


def quantize(x: Tensor, bits: int) -> Tensor:
    """Round to the ``2**bits - 1`` levels between black (0) and white (1), as an ADC does.

    Values are not clipped, so read noise below black survives like in real black-subtracted RAW.
    """
    levels = float(2**bits - 1)
    return torch.round(x * levels) / levels


def quantize_np(x: np.ndarray, bits: int) -> np.ndarray:
    """Numpy :func:`quantize` (float32)."""
    levels = np.float32(2**bits - 1)
    return (np.round(x * levels) / levels).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _read_json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_calibration(path: str | Path | None = None) -> dict[str, Any]:
    """The calibration written by ``python -m app.train.calibrate_noise`` (cached; do not mutate)."""
    return _read_json(str(path or CALIBRATION_PATH))


def calibrated_noise_params(
    camera: str | None = None, iso: float | None = None, path: str | Path | None = None
) -> NoiseParams:
    """Noise level for a camera at an ISO, from the calibration file.

    Unknown cameras (or ``None``) use the pooled "generic" entry; a missing ISO uses the
    camera's calibration ISO; a camera calibrated at an unknown ISO returns its measured level.
    Scaling with ISO follows ``iso_relation`` in the file:
    ``shot ~ iso ** shot_exponent``, ``read ~ iso ** read_exponent``.
    """
    cal = load_calibration(path)
    cams = cal["cameras"]
    key = _match_camera(camera, cams) or "generic"
    entry = cams[key]
    rel = cal["iso_relation"]
    ref_iso = entry.get("iso")
    if not ref_iso:  # calibrated at an unknown ISO: the measured level is all we can offer
        return NoiseParams(float(entry["shot"]), float(entry["read"]), source=f"calibrated:{key}", camera=key)
    ratio = (float(iso) / float(ref_iso)) if iso else 1.0
    shot = entry["shot"] * ratio ** rel["shot_exponent"]
    read = entry["read"] * ratio ** rel["read_exponent"]
    return NoiseParams(
        float(shot), float(read), source=f"calibrated:{key}", camera=key, iso=float(iso or ref_iso)
    )


def _match_camera(camera: str | None, cams: dict[str, Any]) -> str | None:
    """Calibration key for an EXIF-ish camera name: exact (case/space-insensitive) match on the name
    or an alias first, then the longest name/alias contained in ``camera`` (so "Canon EOS 5D Mark II"
    never falls back to a shorter, different model)."""
    if not camera:
        return None

    def norm(s: str) -> str:
        return "".join(s.lower().split())

    want = norm(camera)
    candidates = [
        (norm(a), name)
        for name, e in cams.items()
        if name != "generic"
        for a in (name, *e.get("aliases", []))
    ]
    for alias, name in candidates:
        if alias == want:
            return name
    contained = [(len(alias), name) for alias, name in candidates if alias in want]
    return max(contained)[1] if contained else None
