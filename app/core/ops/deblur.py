"""Motion deblurring with a DeblurGAN-v2 generator (FPN over MobileNet-DSC ``fast`` or MobileNetV2 ``quality``).

The image runs in overlapping tiles (:func:`app.core.infer.tiling.tiled_apply` through the model's
descriptor): tiles are multiples of 32 px (the FPN's deepest stride) and overlap by 256 px, so a tile's
output is exact up to a receptive-field radius of 64 px and blended smoothly beyond. The FPN's 1/16 and
1/32 features see much further (about +-300 px in theory), so the model's descriptor asks for big tiles --
up to 2048 px (``tile_cap``), as free memory allows -- which keeps both the truncated context and the
overlap's extra work small; ``tests/ops/test_deblur_op.py`` measures tiled against untiled output. A 1280x720 frame
is one tile. Progress is reported per tile and cancellation is checked before every tile. ``adaptive``
(default on) scales the result by the photo's measured blur and clamps overshoot
(:mod:`app.core.ops.deblur_guard`; a photo measured sharp is returned as it is); ``strength`` then
blends the result with the input. While the chosen model has no verified weights the op is unavailable
with the registry's reason; it never returns a stand-in result.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.ops.base import Op, model_status, param
from app.core.ops.chunks import blend_to_array
from app.core.ops.refine import HELP, REFINERS, refine_tensor

if TYPE_CHECKING:
    import torch  # annotations only: torch is imported where a net runs (fast app start-up)

#: ``model`` param -> model id in app/core/models/catalog.py.
MODEL_IDS = {"fast": "deblurgan_fast", "quality": "deblurgan_quality"}
#: Largest automatic tile edge (px): ~3.4 GB peak at the measured ~0.8 kB per pixel (descriptor).


@dataclass(frozen=True)
class DeblurParams:
    VERSION = 2  # 2: blur-aware (``adaptive``, on by default): scaled by the measured blur, no overshoot
    model: str = param("fast", label="Model", choices=tuple(MODEL_IDS),
                       help="fast (MobileNet-DSC) suits a CPU; quality (MobileNetV2) is slower and sharper")
    strength: float = param(1.0, label="Strength", min=0.0, max=1.0, step=0.05,
                            help="0 = the input, 1 = the network's result; in between blends the two")
    refine: bool = param(False, label="Refine (PTG)", help=HELP)
    adaptive: bool = param(True, label="Blur-aware",
                           help="Apply the result as far as the photo measures blurred (edge width, motion "
                                "streaks; a sharp photo is left as it is) and without halos past the input's "
                                "local range. Strength then scales that")


def prepare_for_inference(module: torch.nn.Module) -> torch.nn.Module:
    """Fold batch norm into the convs and store weights channels-last, once per loaded module.

    Both are pure speed-ups with the same results up to float rounding; measured with the fast generator
    on a 1280x720 frame (1 CPU thread) they cut the time by about a half (see bench/speed.py). The module
    is the registry's cached instance, so the flag keeps this to a single pass per load.
    """
    import torch
    if getattr(module, "_photorestore_prepared", False):
        return module
    from app.core.nets.blocks import fold_batchnorm

    fold_batchnorm(module.eval())
    module.to(memory_format=torch.channels_last)
    module._photorestore_prepared = True
    return module


def deblur_array(model, data: np.ndarray, strength: float, ctx: RunContext, refine: bool = False,
                 need: float | None = None) -> np.ndarray:
    """Deblur an ``(H, W, 1|3)`` float32 sRGB array with a loaded generator (the op without the registry checks).

    Args:
        model: a :class:`app.core.models.registry.LoadedModel` of a DeblurGAN generator (``bench/speed.py``
            wraps an untrained one: speed does not depend on the weights).
        data: the image; grey images run as RGB and are averaged back.
        strength: blend factor in [0, 1] between ``data`` and the network's output.
        ctx: tile progress and cancellation (and ``ctx.tile``, an explicit tile edge).
        refine: run the PTG refiner on the network's output before the blend.
        need: blur-aware mode (:mod:`app.core.ops.deblur_guard`): the measured need in [0, 1], which
            scales ``strength`` and relaxes the clamp to the input's 3x3 range; None = plain blend.

    Returns:
        Array of ``data``'s shape, in [0, 1].
    """
    import torch
    if model.runner is None:  # a runtime runs its own graph; the torch module stays unbuilt (its fallback)
        prepare_for_inference(model.module)
    rgb = data if data.shape[2] == 3 else np.repeat(data, 3, axis=2)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
    if refine:
        out = model.run_tensor(x, ctx.sub(0.0, 0.5)).clamp_(0.0, 1.0)
        out = refine_tensor("deblur", x, out, ctx.sub(0.5, 1.0))
    else:
        out = model.run_tensor(x, ctx)
    if need is not None:
        from app.core.ops.deblur_guard import clamp_to_neighbourhood

        clamped = out.clone()
        clamp_to_neighbourhood(x[0].permute(1, 2, 0).numpy(), clamped[0].permute(1, 2, 0).numpy())
        out = clamped.lerp_(out, need)  # the clamp relaxes as the need grows (see deblur_guard)
        strength *= need
    return blend_to_array(out, x, strength, data.shape[2])


class DeblurOp(Op):
    id = "deblur"
    label = "Deblur (motion)"
    description = "DeblurGAN-v2 motion deblurring: camera shake and moving subjects."
    Params = DeblurParams
    # fast model, one idle CPU core, 24-MP photo in 2048-px tiles (bench/speed.py: 59 cpu-s; quality ~4.5 s/MP).
    # Speed does not depend on the weights, so the untrained architecture's figure holds.
    cost_s_per_mp = 2.5

    def model_ids(self, params: DeblurParams) -> list[str]:
        return [MODEL_IDS[params.model]] + ([REFINERS["deblur"]] if params.refine else [])

    def availability(self, params: DeblurParams | None = None) -> tuple[bool, str]:
        params = params if params is not None else self.Params()
        for mid in self.model_ids(params):
            ok, why = model_status(mid)
            if not ok:
                return ok, why
        return True, ""

    def run(self, image: Image, params: DeblurParams, ctx: RunContext) -> Image:
        from app.core.models.registry import ModelUnavailableError, load_model, model_state

        model_id = MODEL_IDS[params.model]
        for mid in self.model_ids(params):
            state = model_state(mid)
            if not state.ok:  # the state's own message: "model X is corrupt: model X: ..." said it twice
                raise ModelUnavailableError(mid, state.name, state.message)
        if image.space is not ColorSpace.SRGB or image.channels not in (1, 3):
            raise ValueError(f"deblurring needs an sRGB grey or colour image, got {image.space.value} "
                             f"with {image.channels} channel(s)")
        if params.strength == 0.0:  # the blend would return the input exactly; skip the network
            return image
        info = {"model": model_id, "strength": params.strength, "refine": params.refine,
                "adaptive": params.adaptive}
        need = None
        if params.adaptive:
            from app.core.ops.deblur_guard import blur_need

            need, measured = blur_need(image.data if image.channels == 3 else np.repeat(image.data, 3, axis=2))
            info.update(need=need, **measured)
            if need == 0.0:  # measured sharp: the input, without running the network
                ctx.progress(1.0, "sharp already: left as it is")
                return self._tagged(image, info)
        model = load_model(model_id, ctx.device, ctx=ctx)
        result = deblur_array(model, image.data, params.strength, ctx.sub(0.0, 0.98), refine=params.refine,
                              need=need)
        ctx.progress(1.0, "deblurred")
        return self._tagged(image.with_data(result), info)

    @staticmethod
    def _tagged(image: Image, info: dict) -> Image:
        meta = dataclasses.replace(image.meta, extra={**image.meta.extra, "deblur": info})
        return dataclasses.replace(image, meta=meta)
