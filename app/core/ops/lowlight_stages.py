"""The four cached stages of the KinD low-light op: decompose -> restore -> adjust(ratio) -> fuse.

States passed between stages are plain dicts (never mutated: each stage returns a new dict, because
the pipeline cache keeps the previous state for the next slider move):

- ``decompose``: ``image``, ``R_low`` ``(H, W, 3)``, ``L`` and ``logit`` (``logit(L)``, reused by every
  ratio) as ``(1, 1, H, W)`` tensors, ``L_grid`` (``L`` averaged on the adjustment net's coarse grid)
  and ``L_gmean`` (geometric mean of ``L``: the exposure measure of the automatic ratio).
- ``restore``: adds ``R`` (restored reflectance; ``R_low`` itself when restoration is off).
- ``adjust``: adds ``L_adj`` ``(H, W)`` and ``ratio`` (the one used, automatic or not).
- ``fuse``: the output image ``R_mix * L_adj`` with ``R_mix = R_low + strength * (R - R_low)``.
- with ``refine`` on, ``fuse_keep`` returns ``{"image", "fused"}`` and ``refine`` the PTG refinement of
  ``fused`` given the input ``image`` (:mod:`app.core.ops.refine`).

Decompose and restore run the nets through :class:`~app.core.models.registry.LoadedModel` (tiled, with
progress and cancellation per tile). Adjust runs the adjustment net's convs on the coarse grid only
(``L / 8``: a 24-MP photo is 375 k grid cells, no tiling needed) and applies the predicted tone curve
per pixel, so a ratio change costs a few element-wise passes at the working resolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.context import RunContext
from app.core.image import Image

if TYPE_CHECKING:
    import torch  # annotations only: torch is imported where a net runs (fast app start-up)

DECOMPOSITION_ID = "kind_decomposition"
RESTORATION_ID = "kind_restoration"
ADJUSTMENT_ID = "kind_adjustment"
MODEL_IDS = (DECOMPOSITION_ID, RESTORATION_ID, ADJUSTMENT_ID)

RATIO_RANGE = (0.5, 8.0)
#: Automatic ratio ``alpha = (AUTO_KEY / gmean(L)) ** AUTO_POWER``, clamped to RATIO_RANGE: fitted by
#: least squares in log space to KinD's ``alpha = mean(L_ref / L_dark)`` over the SICE *training* pairs
#: by ``python -m app.train.kind_auto_ratio`` (which also reports the error on the validation scenes).
#: Fit of 2026-12-02 on kind_decomposition 362e62c9, 255 training pairs; on the 24 validation scenes the
#: rule lands a median 0.20 stop (mean 0.25) from the reference's alpha, 88 % within half a stop.
AUTO_KEY = 0.5221
AUTO_POWER = 0.9148
_LOGIT_EPS = 1e-4  # as IlluminationAdjustNet.apply_curve


def auto_ratio(l_gmean: float) -> float:
    """The automatic illumination ratio for an illumination map of geometric mean ``l_gmean``."""
    alpha = (AUTO_KEY / max(float(l_gmean), 1e-4)) ** AUTO_POWER
    return float(min(max(alpha, RATIO_RANGE[0]), RATIO_RANGE[1]))


def _load(model_id: str, ctx: RunContext, device: str | None = None):
    from app.core.models.registry import load_model

    return load_model(model_id, device or ctx.device, ctx=ctx)


def _as_map(x: np.ndarray) -> torch.Tensor:
    import torch
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]


def decompose(image: Image, params: Any, ctx: RunContext) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F
    model = _load(DECOMPOSITION_ID, ctx)
    rgb = image.data[..., :3] if image.channels >= 3 else np.repeat(image.data[..., :1], 3, axis=2)
    out = model(rgb, ctx.sub(0.0, 0.95))  # (H, W, 4): R then L
    ctx.check_cancelled()
    adjust_net = _load(ADJUSTMENT_ID, ctx, "cpu").module
    scale = adjust_net.scale
    light = _as_map(out[..., 3])
    h, w = light.shape[-2:]
    padded = F.pad(light, (0, (-w) % scale, 0, (-h) % scale), mode="replicate")
    grid = F.avg_pool2d(padded, scale) if scale > 1 else padded
    gmean = float(torch.exp(torch.log(light.clamp(min=1e-3)).mean()))
    ctx.progress(1.0, "decomposed")
    # The adjustment module rides along in the state: a slider move then skips the registry's
    # manifest look-up and file check (the weight hash is already part of every stage's cache key).
    return {"image": image, "R_low": np.ascontiguousarray(out[..., :3]), "L": light,
            "logit": torch.logit(light, eps=_LOGIT_EPS), "L_grid": grid, "L_gmean": gmean,
            "adjust_net": adjust_net}


def restore(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    if not params.denoise_reflectance:
        return {**state, "R": state["R_low"]}
    model = _load(RESTORATION_ID, ctx)
    rl = np.concatenate([state["R_low"], state["L"][0, 0].numpy()[..., None]], axis=2)
    restored = model(rl, ctx.sub(0.0, 1.0))
    return {**state, "R": restored}


def adjust(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    import torch

    with torch.inference_mode():
        return _adjust(state, params, ctx)


def _adjust(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    ratio = auto_ratio(state["L_gmean"]) if params.auto_ratio else float(params.ratio)
    net = state["adjust_net"]
    light = state["L"]
    curve = net.curve_params(state["L_grid"].to(net.head.weight.dtype), ratio).float()
    if net.scale > 1:
        # Upsample on the padded grid, then crop: the grid cells stay aligned with their pixels (as in
        # IlluminationAdjustNet.forward, so preview and training see the same curve).
        gh, gw = curve.shape[-2:]
        curve = F.interpolate(curve, size=(gh * net.scale, gw * net.scale), mode="bilinear",
                              align_corners=False)[..., : light.shape[-2], : light.shape[-1]]
    # apply_curve's sigmoid(a * logit(L) + b), in place: one full-size temporary instead of two.
    adjusted = torch.addcmul(curve[:, 1:], curve[:, :1], state["logit"]).sigmoid_()
    ctx.progress(1.0, f"ratio {ratio:.2f}")
    return {**state, "L_adj": adjusted[0, 0].numpy(), "ratio": ratio}


def fuse(state: dict[str, Any], params: Any, ctx: RunContext) -> Image:
    import torch
    r_low, r = torch.from_numpy(state["R_low"]), torch.from_numpy(state["R"])
    light = torch.from_numpy(state["L_adj"]).unsqueeze(-1)
    s = float(params.strength)
    # No clipping needed: R (sigmoid, clamped by the registry) and L' (sigmoid) are in [0, 1], and so is
    # the blend of two reflectances. torch broadcasts the (H, W, 1) map several times faster than numpy.
    if state["R"] is not state["R_low"] and s < 1.0:
        out = torch.lerp(r_low, r, s).mul_(light).numpy()
    else:
        out = torch.mul(r, light).numpy()
    image: Image = state["image"]
    if image.channels > 3:  # keep an alpha channel as it was
        out = np.concatenate([out, image.data[..., 3:]], axis=2)
    elif image.channels < 3:  # grey in, grey out (the nets see it as a neutral RGB image)
        out = out.mean(axis=2, keepdims=True)
    ctx.progress(1.0, "fused")
    return image.with_data(out)


def fuse_keep(state: dict[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
    return {"image": state["image"], "fused": fuse(state, params, ctx)}


def refine(state: dict[str, Any], params: Any, ctx: RunContext) -> Image:
    from app.core.ops.refine import refine_array

    fused: Image = state["fused"]
    out = refine_array("lowlight", state["image"].data, fused.data, ctx)
    ctx.progress(1.0, "refined")
    return fused.with_data(out)
