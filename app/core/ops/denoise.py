"""Learned denoising (CycleISP): RAW mosaics before development, sRGB images after.

``mode="auto"`` sends a RAW file (a BAYER mosaic; the pipeline runs this op before ``develop``) through
the RAW denoiser, which is conditioned on a per-plane noise-variance map (see
:mod:`app.core.ops.denoise_noise` for where the level comes from), and any other image through the blind
sRGB denoiser. Denoising on the mosaic sees the noise before demosaicking spreads and colours it, which is
why RAW files take that route. ``strength`` (luminance), ``color_strength`` and ``detail`` blend the
network's change with the input separately for grain, colour noise and the finest detail
(:mod:`app.core.ops.denoise_blend`); above 1 the removed noise is pushed further at half rate.
``adaptive`` (default on) first keeps the network's change only where it is consistent with the noise
measured on the photo (sRGB: :mod:`app.core.ops.denoise_guard`; RAW: :mod:`app.core.ops.denoise_raw_guard`,
which also leaves a fine grain), so a clean photo is left nearly untouched and texture is not smeared.

Models: ``fast`` (CPU) or ``full`` (the paper's size, for GPUs). A missing or untrained model makes the op
unavailable with the registry's reason; in ``auto`` mode a RAW file whose RAW model is missing is developed
and denoised by the sRGB model instead, with a warning. Output is never faked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.measure.denoise_level import measure_change
from app.core.ops.base import Op, model_status, param
from app.core.ops.denoise_blend import blend_luma_chroma, strength_gain
from app.core.ops.denoise_guard import guard
from app.core.ops.denoise_noise import NOISE_SOURCES, RawNoise, resolve_raw_noise
from app.core.ops.denoise_raw_guard import guard_raw
from app.core.ops.refine import HELP, REFINERS, refine_tensor

if TYPE_CHECKING:
    import torch  # annotations only: torch is imported where a net runs (fast app start-up)

#: the sRGB route reads the noise level (app/core/measure/denoise_level.py) on a central window this big
LEVEL_WINDOW = 2048

#: (route, model size) -> model id in app/core/models/catalog.py.
MODEL_IDS = {
    ("raw", "fast"): "cycleisp_raw_denoise",
    ("raw", "full"): "cycleisp_raw_denoise_full",
    ("srgb", "fast"): "cycleisp_srgb_denoise",
    ("srgb", "full"): "cycleisp_srgb_denoise_full",
}


@dataclass(frozen=True)
class DenoiseParams:
    VERSION = 4  # 2: strength became the luminance strength; color_strength and detail added (migrate())
    #             3: noise-aware blend (``adaptive``, on by default) on the sRGB route
    #             4: ``adaptive`` also on the RAW route (denoise_raw_guard)
    mode: str = param("auto", label="Mode", choices=("auto", "raw", "srgb"),
                      help="auto: RAW files on the mosaic before development, other images in sRGB")
    strength: float = param(1.0, label="Luminance", min=0.0, max=1.5, step=0.05,
                            help="How much grain (brightness noise) to remove: 0 = none, 1 = what the network "
                                 "removes (the grain level 'analyze' reports for the denoiser), in between about "
                                 "(1 - value) of that grain stays; above 1 a little more. Applies to the grey part "
                                 "of the change")
    color_strength: float = param(1.0, label="Colour", min=0.0, max=1.5, step=0.05,
                                  help="How much colour noise (coloured blotches) to remove, independently of "
                                       "the grain: 0 keeps the photo's colour noise, 1 = what the network removes")
    detail: float = param(0.0, label="Detail", min=0.0, max=1.0, step=0.05,
                          help="Keeps this share of the finest structure (1-2 px) the network removed from the "
                               "brightness: more texture and fine edges, and that much fine grain with them")
    model: str = param("fast", label="Model", choices=("fast", "full"),
                       help="fast runs well on a CPU; full is the paper's size, for GPUs")
    noise_scale: float = param(1.0, label="Noise level", min=0.25, max=4.0, step=0.05,
                               help="RAW files only: tells the network the noise is this many times the measured "
                                    "level, so it cleans harder (not a blend like Luminance/Colour: it changes "
                                    "what the network does)")
    noise_source: str = param("auto", label="Noise level from", choices=NOISE_SOURCES, advanced=True,
                              help="RAW only: auto = DNG NoiseProfile, else camera calibration at the "
                                   "shot's ISO, else estimated from the image")
    shot: float = param(0.0, label="Manual shot noise", min=0.0, max=0.1, step=1e-5, advanced=True,
                        help="RAW, noise source manual: variance per unit signal (0-1 scale)")
    read: float = param(0.0, label="Manual read noise", min=0.0, max=0.01, step=1e-7, advanced=True,
                        help="RAW, noise source manual: signal-independent variance (0-1 scale)")
    refine: bool = param(False, label="Refine (PTG)", help=HELP + "; sRGB route only")
    adaptive: bool = param(True, label="Noise-aware",
                           help="Keep the network's change only where it matches the noise measured in this photo, "
                                "not where it would remove texture (a clean photo is left almost as it is; on a "
                                "RAW file a fine grain is left in place). Luminance / Colour / Detail then blend "
                                "that result")


def _noise_reading(noisy: np.ndarray, denoised: np.ndarray, strength: float) -> dict:
    """``{"noise": NoiseLevel.to_dict(), "grain_left255": ...}``, read on a central window of at most
    ``LEVEL_WINDOW`` px (bounded cost on big photos); empty when the photo is too small to read.
    ``grain_left255``: the grain *Luminance* ``strength`` leaves in flat areas (the blend is linear)."""
    h, w = noisy.shape[:2]
    y0, x0 = max(0, (h - LEVEL_WINDOW) // 2), max(0, (w - LEVEL_WINDOW) // 2)
    win = np.s_[y0:y0 + LEVEL_WINDOW, x0:x0 + LEVEL_WINDOW]
    level = measure_change(noisy[win], denoised[win])
    if level is None:
        return {}
    return {"noise": level.to_dict(), "grain_left255": level.left255(strength_gain(strength))}


def blend(noisy: torch.Tensor, denoised: torch.Tensor, strength: float) -> torch.Tensor:
    """``noisy + k * (denoised - noisy)`` in place on ``denoised``; ``k = s`` up to 1, then ``1 + (s-1)/2``."""
    return blend_luma_chroma(noisy, denoised, strength, strength)


def blend_params(noisy: torch.Tensor, denoised: torch.Tensor, params: DenoiseParams) -> torch.Tensor:
    """The luminance / colour / detail blend of ``params`` (:mod:`app.core.ops.denoise_blend`)."""
    return blend_luma_chroma(noisy, denoised, params.strength, params.color_strength, params.detail)


_PHASES = ((0, 0), (0, 1), (1, 0), (1, 1))  # R, G1, G2, B sites of an RGGB cell (app.core.isp.mosaic order)


def raw_input(image: Image, params: DenoiseParams) -> tuple[torch.Tensor, RawNoise]:
    """The RAW denoiser's input for a BAYER image: ``(1, 8, H/2, W/2)`` = packed RGGB, then per plane
    ``shot * max(x, 0) + read`` for the noise level :func:`resolve_raw_noise` picks, and that level.

    One buffer filled in place: with a 24-MP mosaic it is the op's largest allocation (192 MB).
    """
    import torch
    mosaic = image.data[:, :, 0]
    if mosaic.shape[0] % 2 or mosaic.shape[1] % 2:
        raise ValueError(f"a RAW mosaic has even sides, got {mosaic.shape}")
    x = torch.empty(1, 8, mosaic.shape[0] // 2, mosaic.shape[1] // 2)
    for c, (i, j) in enumerate(_PHASES):
        x[0, c] = torch.from_numpy(np.ascontiguousarray(mosaic[i::2, j::2]))
    packed = x[0, :4].numpy().transpose(1, 2, 0)  # (h, w, 4) view
    noise = resolve_raw_noise(image, packed, source=params.noise_source, scale=params.noise_scale,
                              shot=params.shot, read=params.read)
    noise.variance(packed, out=x[0, 4:].numpy().transpose(1, 2, 0))
    return x, noise


class DenoiseOp(Op):
    id = "denoise"
    label = "Denoise"
    description = "CycleISP denoisers: RAW files on the sensor mosaic, other images in sRGB."
    Params = DenoiseParams
    accepts = frozenset({ColorSpace.BAYER, ColorSpace.SRGB})
    cost_s_per_mp = 1.5  # fast RAW net, 1 thread, 384-px tiles: 24 MP in ~32 CPU-s (bench/denoise_memory.py)

    def migrate(self, version: int, values: dict) -> dict:
        """Version 1 had one ``strength`` for everything: it becomes both the luminance and colour strength."""
        values = dict(values)
        if version < 2 and "strength" in values:
            values.setdefault("color_strength", values["strength"])
        return values

    def model_ids(self, params: DenoiseParams) -> list[str]:
        routes = ("raw", "srgb") if params.mode == "auto" else (params.mode,)
        return [MODEL_IDS[(r, params.model)] for r in routes] + ([REFINERS["denoise"]] if params.refine else [])

    def availability(self, params: DenoiseParams | None = None) -> tuple[bool, str]:
        params = params if params is not None else self.Params()
        if params.refine:
            ok, why = model_status(REFINERS["denoise"])
            if not ok:
                return False, why
        routes = ("raw", "srgb") if params.mode == "auto" else (params.mode,)
        states = [model_status(MODEL_IDS[(r, params.model)]) for r in routes]
        if params.mode != "auto":
            return states[0]
        (raw_ok, raw_why), (srgb_ok, srgb_why) = states
        if raw_ok and srgb_ok:
            return True, ""
        if srgb_ok:
            return True, f"RAW files are developed first and denoised in sRGB ({raw_why})"
        if raw_ok:
            return True, f"only RAW files can be denoised ({srgb_why})"
        return False, f"{raw_why}; {srgb_why}"

    def run(self, image: Image, params: DenoiseParams, ctx: RunContext) -> Image:
        from app.core.models.registry import ModelUnavailableError, model_state

        route = params.mode
        if route == "auto":
            route = "raw" if image.space is ColorSpace.BAYER else "srgb"
            if route == "raw" and not model_state(MODEL_IDS[("raw", params.model)]).ok:
                ctx.warn(f"{model_status(MODEL_IDS[('raw', params.model)])[1]}; "
                         "developing first and denoising in sRGB instead")
                route = "srgb"
        if route == "raw" and image.space is not ColorSpace.BAYER:
            raise ValueError("RAW denoising needs a RAW file (a sensor mosaic); use mode auto or srgb")
        model_id = MODEL_IDS[(route, params.model)]
        state = model_state(model_id)
        if not state.ok:  # the state's own message: "model X is corrupt: model X: ..." said it twice
            raise ModelUnavailableError(model_id, state.name, state.message)
        if params.strength == 0.0 and params.color_strength == 0.0:  # the input exactly; skip the network
            return image
        if route == "raw":
            return self._run_raw(image, params, model_id, ctx)
        if image.space is ColorSpace.BAYER:  # mode srgb (or the auto fallback) on a RAW file
            from app.core.io import develop

            ctx.progress(0.0, "developing RAW")
            image = develop(image)
            ctx = ctx.sub(0.3, 1.0)
        return self._run_srgb(image, params, model_id, ctx)

    def _run_srgb(self, image: Image, params: DenoiseParams, model_id: str, ctx: RunContext) -> Image:
        import torch

        from app.core.models.registry import load_model

        if image.space is not ColorSpace.SRGB or image.channels != 3:
            raise ValueError(f"sRGB denoising needs an sRGB colour image, got {image.space.value} "
                             f"with {image.channels} channel(s)")
        model = load_model(model_id, ctx.device, ctx=ctx)
        x = torch.from_numpy(np.ascontiguousarray(image.data.transpose(2, 0, 1)))[None]
        if params.refine:  # the refiner learnt on the full-strength output; the blend comes after it
            den = model.run_tensor(x, ctx.sub(0.0, 0.45)).clamp_(0.0, 1.0)
            den = refine_tensor("denoise", x, den, ctx.sub(0.45, 0.98))
        else:
            den = model.run_tensor(x, ctx.sub(0.0, 0.98))
        den_np = den[0].permute(1, 2, 0).numpy()
        # the network's own change, before the guard and the sliders (what Luminance 1 removes)
        level = _noise_reading(image.data[..., :3], den_np, params.strength)
        if params.adaptive:  # before the sliders' blend: they scale what the noise-aware rule kept
            guarded = guard(image.data[..., :3], np.ascontiguousarray(den_np))
            den = torch.from_numpy(np.ascontiguousarray(guarded.transpose(2, 0, 1)))[None]
        out = blend_params(x, den, params).clamp_(0.0, 1.0)
        data = np.ascontiguousarray(out[0].permute(1, 2, 0).numpy())
        ctx.progress(1.0, "denoised")
        return self._tagged(image.with_data(data), {"mode": "srgb", "model": model_id,
                                                    "strength": params.strength,
                                                    "color_strength": params.color_strength,
                                                    "detail": params.detail, "refine": params.refine,
                                                    "adaptive": params.adaptive, **level})

    def _run_raw(self, image: Image, params: DenoiseParams, model_id: str, ctx: RunContext) -> Image:
        from app.core.models.registry import load_model

        if params.refine:
            ctx.warn("PTG refinement applies to the sRGB route only; the RAW denoiser's output is not refined")
        ctx.progress(0.0, "measuring the noise level")
        x, noise = raw_input(image, params)
        ctx.check_cancelled()
        model = load_model(model_id, ctx.device, ctx=ctx)
        den = model.run_tensor(x, ctx.sub(0.05, 0.97))
        if params.adaptive:  # before the sliders' blend, as on the sRGB route
            raw = image.raw
            guard_raw(x[0, :4].numpy(), den[0].numpy(), noise, raw.camera_wb if raw else None,
                      float(raw.extra.get("binning", 1.0)) if raw else 1.0)
        blend_params(x[:, :4], den, params)
        del x
        out = np.empty_like(image.data)
        for c, (i, j) in enumerate(_PHASES):
            out[i::2, j::2, 0] = den[0, c].numpy()
        del den
        np.minimum(out, 1.0, out=out)  # the sensor's white; below-black noise is kept like the source's
        ctx.progress(1.0, "denoised")
        info = {"mode": "raw", "model": model_id, "strength": params.strength,
                "color_strength": params.color_strength, "detail": params.detail, "noise_source": noise.source,
                "shot": list(noise.shot), "read": list(noise.read), "adaptive": params.adaptive}
        return self._tagged(image.with_data(out), info)

    @staticmethod
    def _tagged(image: Image, info: dict) -> Image:
        meta = dataclasses.replace(image.meta, extra={**image.meta.extra, "denoise": info})
        return dataclasses.replace(image, meta=meta)
