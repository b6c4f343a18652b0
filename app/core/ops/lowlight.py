"""Low-light enhancement, KinD style (Zhang et al. 2019), as four cached pipeline stages.

decompose (photo -> reflectance R, illumination L) -> restore (clean R, guided by L) -> adjust (L to the
requested ratio) -> fuse (the input brightened by the gain L' / L, its luminance partly from the
restored R x L' where the gain amplifies noise, its colour the input's: see ``lowlight_stages.fuse``).
Each stage declares the params it reads, so the pipeline's cache keeps decompose and restore while only
the ratio moves: a slider move reruns adjust + fuse, a few element-wise passes at preview resolution.
Stage code: :mod:`app.core.ops.lowlight_stages`.

The ratio is KinD's ``alpha = mean(L_target / L_source)`` (> 1 brightens). With ``auto_ratio`` on it
is chosen from the photo's exposure: ``alpha = (AUTO_KEY / gmean(L)) ** AUTO_POWER`` with ``gmean(L)``
the geometric mean of the decomposed illumination, constants fitted on the SICE training scenes (see
``lowlight_stages.AUTO_KEY``), with a knee that leaves a photo within a stop of normal alone
(``lowlight_stages.auto_ratio``). The ratio used is in the result's ``meta.extra["lowlight"]``.
Setting the ratio turns ``auto_ratio`` off: the GUI slider does, and so does a ratio given alone on the
CLI (``--op lowlight:ratio=3``) or in a proposed recipe (``make_params``).

Without trained weights for all three nets the op is unavailable (with the reason), never faked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.context import RunContext
from app.core.image import Image
from app.core.ops import lowlight_stages as st
from app.core.ops.base import Op, Stage, param
from app.core.ops.refine import HELP, REFINERS


@dataclass(frozen=True)
class LowlightParams:
    VERSION = 3  # 2: the output is the input brightened by a gain (colour kept), not KinD's R x L'
    #             3: ratios up to 16 (the adjustment net's training range); restoration only where noise-like
    ratio: float = param(2.0, label="Illumination ratio", min=st.RATIO_RANGE[0], max=st.RATIO_RANGE[1],
                         step=0.05, help="KinD's alpha: mean brightening of the illumination (>1 brightens); "
                                         "used when automatic is off")
    auto_ratio: bool = param(True, label="Automatic ratio",
                             help="Choose the ratio from the photo's exposure (geometric mean of its illumination)")
    denoise_reflectance: bool = param(True, label="Denoise reflectance",
                                      help="Restore the reflectance (noise, colour casts hidden in the dark)")
    strength: float = param(0.7, label="Restoration strength", min=0.0, max=1.0, step=0.05,
                            help="How much of the restoration net's luminance replaces the brightened "
                                 "input's, where a pixel is brightened by a stop or more (less below)")
    refine: bool = param(False, label="Refine (PTG)",
                         help=HELP + "; the ratio slider then also reruns the refiner")


class LowlightOp(Op):
    id = "lowlight"
    label = "Low light (KinD)"
    description = "Brighten dark photos: Retinex decomposition, reflectance restoration, illumination ratio."
    Params = LowlightParams
    cost_s_per_mp = 2.5
    prominent_param = "ratio"

    def stages(self, params: Any) -> list[Stage]:
        head = [Stage("decompose", st.decompose, reads=(), weight=3.0),
                Stage("restore", st.restore, reads=("denoise_reflectance",), weight=5.0),
                Stage("adjust", st.adjust, reads=("ratio", "auto_ratio"), weight=0.2)]
        if not params.refine:
            return [*head, Stage("fuse", st.fuse, reads=("strength",), weight=0.2)]
        # A differently named fuse: its state keeps the input for the refiner (cache keys hold stage names).
        return [*head, Stage("fuse_keep", st.fuse_keep, reads=("strength",), weight=0.2),
                Stage("refine", st.refine, reads=("refine",), weight=4.0)]

    def migrate(self, version: int, values: dict[str, Any]) -> dict[str, Any]:
        """Version 1's strength blended raw and restored reflectance (default 1); version 2's weighs the
        restoration against the brightened input (default 0.7): a saved default takes the new default."""
        if version < 2 and float(values.get("strength", 1.0)) == 1.0:
            values = {k: v for k, v in values.items() if k != "strength"}
        return values

    def model_ids(self, params: Any) -> list[str]:
        # Always all three: the weight hashes enter every stage's cache key, so a list that changed
        # with denoise_reflectance would also invalidate the cached decomposition (turning refine on or
        # off does, once).
        return list(st.MODEL_IDS) + ([REFINERS["lowlight"]] if params.refine else [])

    def run(self, image: Image, params: LowlightParams, ctx: RunContext) -> Image:
        """All four stages without a cache (CLI/bench use the pipeline; this is for direct calls)."""
        state: Any = image
        stages = self.stages(params)
        total = sum(s.weight for s in stages)
        done = 0.0
        for s in stages:
            ctx.check_cancelled()
            state = s.fn(state, params, ctx.sub(done / total, (done + s.weight) / total))
            done += s.weight
        return state
