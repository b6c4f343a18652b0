"""``isp``: the learned camera pipeline, CycleISP's RGB2RAW and RAW2RGB trained together.

Batches hold ``lq`` = sRGB ``(B, 3, p, p)`` and ``gt`` = packed RGGB ``(B, 4, p/2, p/2)`` from real RAW
files (:class:`~app.train.isp_pairs.RawFilePatches`) and unprocessed clean photos
(:class:`~app.train.isp_pairs.UnprocessPair`). As in CycleISP, each half learns on ground-truth input:
RGB2RAW maps the sRGB to RAW, RAW2RGB maps the true RAW back to sRGB with colour attention from the
sRGB itself.

``forward`` packs both predictions at RAW resolution (the RAW's 4 planes, then the sRGB pixel-unshuffled
to 12), replaces ``gt`` with the same packing of the truth and ``lq`` with the *parametric* pipeline's
answer under the nominal camera (:func:`~app.train.isp_pairs.nominal_camera`), so the validation's
"input" PSNR is the parametric baseline on the same crops. :class:`IspLoss` weighs the two halves equally.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from app.train.splits import Splits
from app.train.tasks.base import Task, build_mixture, like_catalog

ISP_ARCH = "cycleisp"


class IspLoss(nn.Module):
    """Mean L1 of the RAW planes plus mean L1 of the sRGB planes (each half of the pipeline counts once)."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(pred[:, :4], target[:, :4]) + F.l1_loss(pred[:, 4:], target[:, 4:])


def _parametric(srgb: torch.Tensor, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    from app.core.isp.synthetic_camera import process, unprocess
    from app.train.isp_pairs import nominal_camera

    cam = nominal_camera()
    return unprocess(srgb, cam), process(raw, cam)


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    srgb, raw = batch["lq"], batch["gt"]
    raw_hat = model.rgb2raw(srgb)
    rgb_hat = model.raw2rgb(raw, srgb)
    with torch.no_grad():
        base_raw, base_rgb = _parametric(srgb.float(), raw.float())
    batch["gt"] = torch.cat([raw, F.pixel_unshuffle(srgb, 2)], 1)
    batch["lq"] = torch.cat([base_raw, F.pixel_unshuffle(base_rgb, 2)], 1).to(srgb.dtype)
    return torch.cat([raw_hat, F.pixel_unshuffle(rgb_hat, 2)], 1)


def arch_config(cfg: dict[str, Any]) -> dict[str, Any]:
    m = dict(cfg["model"])
    return {"net": "isp", "config": m.pop("preset", "fast"), **m}


def build_model(cfg: dict[str, Any]) -> nn.Module:
    from app.core.nets import cycleisp

    return cycleisp.build(**arch_config(cfg))


def build_data(cfg: dict, splits: Splits, split: str):
    """The config's clean sources through :class:`UnprocessPair`, plus the real RAW files (``[data] raw_weight``)."""
    from app.train.datasets import MixedDataset
    from app.train.isp_pairs import RawFilePatches, UnprocessPair, raw_files
    from app.train.tasks.base import VAL_SEED

    data, train = cfg["data"], split == "train"
    if data["patch"] % 2 or cfg["val"]["patch"] % 2:
        raise ValueError("isp patches must be even (whole 2x2 Bayer cells)")
    synthetic = build_mixture(cfg, splits, split, degrade=UnprocessPair())
    files = raw_files()
    weight = float(data.get("raw_weight", 1.0))
    if not train:
        weight = float(cfg["val"].get("raw_weight", weight))
    if not files or weight <= 0:
        return synthetic
    real = RawFilePatches(files, split=split, patch=data["patch"] if train else cfg["val"]["patch"],
                          seed=cfg["seed"] if train else VAL_SEED, salt=101, cache_mb=data["cache_mb"])
    length = data["epoch_length"] if train else cfg["val"]["count"]
    mixed = MixedDataset([*synthetic.parts, real], [*_weights(cfg, train, synthetic.sources), weight], length)
    mixed.sources = [*synthetic.sources, "raw_bayer"]
    return mixed


def _weights(cfg: dict, train: bool, used: list[str]) -> list[float]:
    """Weights of the sources ``build_mixture`` actually used (absent wallpapers are skipped there)."""
    specs = cfg["val"]["sources"] if not train and cfg["val"].get("sources") else cfg["data"]["sources"]
    return [float(s.get("weight", 1.0)) for s in specs if s["name"] in used]


TASK = Task(
    name="isp",
    build_model=build_model,
    arch=lambda cfg: (ISP_ARCH, arch_config(cfg)),
    build_data=build_data,
    default_loss=[{"type": "isp_l1"}],
    forward=forward,
    descriptor=like_catalog("cycleisp_learned_isp", arch_config),
    losses={"isp_l1": IspLoss},
)
