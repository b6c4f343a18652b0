"""Function-preserving widening: start a wider/deeper model from a narrower trained one (Net2Net-style).

A trained net that has stopped improving can get more capacity without starting over: every old tensor is
copied into the leading corner of the new, larger tensor; weights *from* new channels *into* old units are
zeroed, so the new channels cannot change the old outputs yet, while weights *into* new channels keep their
fresh random init (so the new units compute something and get gradients). Whole new modules (extra residual
blocks) are listed in ``zero``: their tensors are zeroed so they start as the identity of their skip
connection. The grown model therefore computes exactly what the old one did at step 0, and training can only
start from there. This assumes, as in the nets here, that a layer's channel order keeps old channels first
(true for plain convs; not for concatenations that put other channels after a widened block, which must then
keep their width).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = ["grow_state"]


def grow_state(own: Mapping[str, torch.Tensor], old: Mapping[str, torch.Tensor],
               zero: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    """The grown state dict: ``own`` (the fresh larger model's state) with ``old`` copied in.

    Raises ``ValueError`` when an old tensor does not fit (another rank, or a dimension that shrank) or the
    old state has keys the new model lacks.
    """
    extra = [k for k in old if k not in own]
    if extra:
        raise ValueError(f"grow: the old weights have keys the new model lacks: {extra[:4]}")
    out = {}
    for key, fresh in own.items():
        t = fresh.detach().clone()
        if key.startswith(zero) if zero else False:
            t.zero_()
        if key in old:
            src = old[key].to(t.dtype)
            if src.ndim != t.ndim or any(a > b for a, b in zip(src.shape, t.shape)):
                raise ValueError(f"grow: {key} {tuple(src.shape)} does not fit into {tuple(t.shape)}")
            if t.ndim >= 2 and t.shape[1] > src.shape[1]:
                t[: src.shape[0], src.shape[1]:] = 0  # new inputs must not reach old outputs
            t[tuple(slice(0, n) for n in src.shape)] = src
        out[key] = t
    return out
