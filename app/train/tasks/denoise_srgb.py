"""``denoise_srgb``: the CycleISP sRGB denoiser on synthetic camera noise and real noisy pairs.

Clean photos are degraded by :class:`app.train.degrade.RawNoise` (unprocess to RAW, shot/read noise,
quantise, develop: the CycleISP recipe), optionally followed by JPEG compression, as most real noisy
photos are JPEGs; PolyU pairs add real camera noise where a config lists them (non-commercial).
"""

from __future__ import annotations

from typing import Any

from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture, by_preset, like_catalog

DEFAULT_MODEL_ID = "cycleisp_srgb_denoise"


def degradation(cfg: dict[str, Any]):
    """The clean-image degradation of a config's ``[degrade]`` table.

    Keys: ``isp`` (``"parametric"``: :class:`RawNoise`, default; ``"learned"``: :class:`LearnedRawNoise`,
    CycleISP's learned camera pipeline), ``noise_model`` (a name or a list drawn uniformly: ``"sidd"``,
    ``"dnd"``, ``"calibrated"``),
    ``bits`` (ADC depths), ``jpeg_p`` (probability of a JPEG stage after the noise), ``jpeg_quality`` and
    ``phone_p`` (probability of :class:`app.train.phone_isp.PhoneNoise` instead of all of the above),
    ``phone_shot`` (its shot-variance range, default PhoneNoise's) and ``clean_p`` (probability of a pair
    with nothing to fix, :class:`app.train.degrade.KeepClean`, so the net learns to leave clean photos alone).
    """
    from app.train.degrade import Compose, Jpeg, KeepClean, LearnedRawNoise, OneOf, RandomApply, RawNoise
    from app.train.phone_isp import PhoneNoise

    d = cfg["degrade"]
    models = d.get("noise_model", "sidd")
    bits = tuple(d.get("bits", (12, 14)))
    kind = {"parametric": RawNoise, "learned": LearnedRawNoise}.get(d.get("isp", "parametric"))
    if kind is None:
        raise ValueError(f"degrade.isp must be 'parametric' or 'learned', got {d['isp']!r}")
    noise = (kind(noise_model=models, bits=bits) if isinstance(models, str)
             else OneOf([kind(noise_model=m, bits=bits) for m in models]))
    if d.get("jpeg_p", 0.0):
        jpeg = Jpeg(quality_range=tuple(d.get("jpeg_quality", (60, 95))))
        noise = Compose([noise, RandomApply(jpeg, p=float(d["jpeg_p"]))])
    phone_p, clean_p = float(d.get("phone_p", 0.0)), float(d.get("clean_p", 0.0))
    if not (phone_p or clean_p):
        return noise
    if phone_p + clean_p >= 1.0:
        raise ValueError(f"degrade.phone_p + clean_p must be below 1, got {phone_p} + {clean_p}")
    phone = PhoneNoise(shot_range=tuple(d["phone_shot"])) if "phone_shot" in d else PhoneNoise()
    options, weights = [noise, phone, KeepClean()], [1.0 - phone_p - clean_p, phone_p, clean_p]
    return OneOf([o for o, w in zip(options, weights) if w], weights=[w for w in weights if w])


def arch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cycleisp.build`` keyword arguments: the net, the preset and any per-field overrides."""
    m = dict(cfg["model"])
    return {"net": "srgb_denoiser", "config": m.pop("preset", "fast"), **m}


def build_model(cfg: dict[str, Any]):
    from app.core.nets import cycleisp

    return cycleisp.build(**arch_config(cfg))


def _build_data(cfg: dict, splits: Splits, split: str):
    return build_mixture(cfg, splits, split, degrade=degradation(cfg))


TASK = Task(
    name="denoise_srgb",
    build_model=build_model,
    arch=lambda cfg: ("cycleisp", arch_config(cfg)),
    build_data=_build_data,
    default_loss=[{"type": "charbonnier", "eps": 1e-3}],
    descriptor=like_catalog(by_preset("cycleisp_srgb_denoise", arch_config), arch_config),
)
