"""PTG refinement shared by the ops: ``refine = True`` runs the op's refiner on ``cat(I_d, I_c)``.

``I_d`` is what the op received and ``I_c`` what its network produced (before any strength blend); the
refiner (:mod:`app.core.nets.ptg`, one per op, trained on that op's outputs by ``app/train/tasks/refine.py``)
returns ``I_d + (I_c - I_d) * I_m + I_r``. It runs tiled like every net (128 px of overlap for its
attention windows and pooled channel attention, so tiles of at least 512 px), with progress and
cancellation per tile. While a refiner has no verified weights, an op asked to refine is unavailable
with the reason, never silently unrefined.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from app.core.context import RunContext

if TYPE_CHECKING:
    import torch

#: op id -> its refiner's model id (app/core/models/catalog.py).
REFINERS = {"denoise": "ptg_refine_denoise", "lowlight": "ptg_refine_lowlight", "deblur": "ptg_refine_deblur"}

HELP = ("PTG refinement: a small prior-guided net corrects this op's output (slower; "
        "see the model card for the gain it measured)")


def refine_tensor(op_id: str, degraded: torch.Tensor, candidate: torch.Tensor, ctx: RunContext) -> torch.Tensor:
    """The refined ``(1, 3, H, W)`` image for an op's input and output (CPU float tensors in [0, 1])."""
    import torch

    from app.core.models.registry import load_model

    model = load_model(REFINERS[op_id], ctx.device, ctx=ctx)
    x = torch.cat([degraded, candidate], 1)
    return model.run_tensor(x, ctx).clamp_(0.0, 1.0)


def refine_array(op_id: str, degraded: np.ndarray, candidate: np.ndarray, ctx: RunContext) -> np.ndarray:
    """:func:`refine_tensor` for ``(H, W, C)`` float32 arrays: grey images go through as RGB and come back
    grey; channels after the third (alpha) are the candidate's, unchanged."""
    import torch

    def t(a: np.ndarray) -> torch.Tensor:
        rgb = a[..., :3] if a.shape[2] >= 3 else np.repeat(a[..., :1], 3, axis=2)
        return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32))[None]

    out = np.ascontiguousarray(refine_tensor(op_id, t(degraded), t(candidate), ctx)[0].permute(1, 2, 0).numpy())
    if candidate.shape[2] < 3:
        return out.mean(axis=2, keepdims=True, dtype=np.float32)
    return np.concatenate([out, candidate[..., 3:]], axis=2) if candidate.shape[2] > 3 else out
