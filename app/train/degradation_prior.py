"""Pretrain PTG's degradation-aware prior: classify the kind and level of a synthesised degradation.

``python -m app.train.degradation_prior [--steps N] [--threads 1] [--export]``

Clean crops of the permissive photo sets (recorded train split) get one of: nothing, camera noise
(unprocess -> shot/read noise -> develop), camera-shake blur, under-exposure, JPEG. The label is the kind
crossed with a level bucket read from what was sampled (noise shot parameter, blur trajectory length,
exposure ratio, JPEG quality), so the classes are :data:`app.core.nets.ptg.DEGRADATION_CLASSES`. The
encoder's spatial features then guide the refiner (frozen). Accuracy is reported on the validation split
(other photos, fixed crops), never on training crops.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from app.core.nets.ptg import DEGRADATION_CLASSES, DegradationEncoder
from app.train.degrade import Jpeg, LowLight, MotionBlur, OneOf, RawNoise
from app.train.tasks.base import build_mixture

log = logging.getLogger("photorestore.train")

MODEL_ID = "ptg_degradation_prior"
#: Level thresholds: geometric middles of the sampled ranges, so each bucket gets about half the draws.
SHOT_SPLIT = math.sqrt(6.87e-4 * 2.19e-2)   # the SIDD model's shot range
BLUR_SPLIT = math.sqrt(4.0 * 32.0)           # trajectory length, px
RATIO_SPLIT = math.sqrt(2.0 * 16.0)          # exposure reduction
JPEG_SPLIT = 50                              # quality below: "strong"


class _Clean:
    def __call__(self, clean: np.ndarray, rng: np.random.Generator):
        return clean, clean, {}


class LabelledDegradation:
    """One random degradation (or none) and its :data:`DEGRADATION_CLASSES` index in ``info["label"]``."""

    def __init__(self) -> None:
        # the identity gets half the weight of a kind with two levels: every class ~1/9 of the draws
        self.pick = OneOf([_Clean(), RawNoise(noise_model="sidd"), MotionBlur(), LowLight(ratio_range=(2.0, 16.0)),
                           Jpeg(quality_range=(15, 95))], weights=[1.0, 2.0, 2.0, 2.0, 2.0])

    def __call__(self, clean: np.ndarray, rng: np.random.Generator):
        lq, gt, info = self.pick(clean, rng)
        kind = info["choice"]
        if kind == 0:
            name = "clean"
        elif kind == 1:
            name = "noise_low" if info["noise"]["shot"] < SHOT_SPLIT else "noise_high"
        elif kind == 2:
            name = "blur_short" if info["length"] < BLUR_SPLIT else "blur_long"
        elif kind == 3:
            name = "lowlight_mild" if info["ratio"] < RATIO_SPLIT else "lowlight_strong"
        else:
            name = "jpeg_strong" if info["quality"] < JPEG_SPLIT else "jpeg_mild"
        return lq, gt, {"label": DEGRADATION_CLASSES.index(name)}


def data_config(patch: int, batch: int, steps: int, val_count: int) -> dict[str, Any]:
    """A run config in :func:`build_mixture`'s shape (train on permissive clean photos only)."""
    sources = [{"name": "wallpapers", "weight": 2.0}, {"name": "sunhays80", "weight": 1.5},
               {"name": "urban100", "weight": 1.0}, {"name": "live1", "weight": 0.5}]
    return {"name": "degradation_prior", "seed": 0,
            "data": {"patch": patch, "epoch_length": steps * batch, "cache_mb": 1024, "clean_max_side": 1600,
                     "sources": sources, "fetch_wallpapers": True},
            "val": {"patch": patch, "count": val_count, "sources": sources[:3]}}


def _batches(ds, batch: int, workers: int):
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                                         persistent_workers=workers > 0, drop_last=True)
    while True:
        yield from loader


def accuracy(model: DegradationEncoder, val: list[dict[str, torch.Tensor]]) -> tuple[float, np.ndarray]:
    """Top-1 accuracy and the confusion matrix (rows: true class) on the validation crops."""
    model.eval()
    conf = np.zeros((len(DEGRADATION_CLASSES),) * 2, np.int64)
    with torch.no_grad():
        for b in val:
            pred = model.logits(b["lq"]).argmax(1)
            for t, p in zip(b["label"].long().tolist(), pred.tolist()):
                conf[t, p] += 1
    model.train()
    return float(np.trace(conf) / max(conf.sum(), 1)), conf


def train(steps: int, batch: int, patch: int, lr: float, workers: int,
          val_count: int) -> tuple[DegradationEncoder, dict]:
    from app.train.splits import load_splits

    torch.manual_seed(0)
    cfg = data_config(patch, batch, steps, val_count)
    deg = LabelledDegradation()
    splits = load_splits()
    train_set = build_mixture(cfg, splits, "train", degrade=deg, keep_info=("label",))
    val_set = build_mixture(cfg, splits, "val", degrade=deg, keep_info=("label",))
    val = [torch.utils.data.default_collate([val_set[i] for i in range(j, min(j + 32, len(val_set)))])
           for j in range(0, len(val_set), 32)]
    model = DegradationEncoder()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    start, running = time.monotonic(), []
    for step, b in zip(range(1, steps + 1), _batches(train_set, batch, workers)):
        loss = F.cross_entropy(model.logits(b["lq"]), b["label"].long())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running.append(float(loss.detach()))
        if step % 100 == 0 or step == steps:
            acc = accuracy(model, val)[0] if step % 500 == 0 or step == steps else float("nan")
            log.info("step %d  loss %.3f  val acc %.3f  %.0f s", step, np.mean(running), acc,
                     time.monotonic() - start)
            running = []
    acc, conf = accuracy(model, val)
    per_class = {c: float(conf[i, i] / max(conf[i].sum(), 1)) for i, c in enumerate(DEGRADATION_CLASSES)}
    facts = {"val_accuracy": acc, "per_class": per_class, "confusion": conf.tolist(), "steps": steps,
             "batch": batch, "patch": patch, "wall_time_s": time.monotonic() - start,
             "val_crops": int(conf.sum()), "sources": train_set.sources}
    return model, facts


def export(model: DegradationEncoder, facts: dict, command: str, models_dir: Path | None) -> Path:
    from app.core.models.export import export_model
    from app.train.runner import hardware

    per_class = ", ".join(f"{k} {v:.2f}" for k, v in facts["per_class"].items())
    card = {
        "description": "PTG degradation-aware prior: a small conv encoder pretrained by us to recognise the kind "
                       "and level of a degradation (noise, blur, low light, JPEG); its features guide the PTG "
                       "refiners (frozen). Not a restoration model by itself.",
        "training_data": "crops of " + ", ".join(facts["sources"]) + " (recorded train split) with one of: "
                         "nothing, synthetic camera noise, camera-shake blur, under-exposure, JPEG",
        "licence": "GPL-3.0-or-later",
        "command": command,
        "iterations": facts["steps"],
        "wall_time_s": round(facts["wall_time_s"], 1),
        "hardware": hardware(torch.device("cpu")),
        "metrics": {"val_accuracy": round(facts["val_accuracy"], 4)},
        "notes": f"Validation: {facts['val_crops']} fixed {facts['patch']}-px crops of validation photos; "
                 f"9 classes (chance 0.11). Per-class recall: {per_class}.",
    }
    return export_model(MODEL_ID, model, arch="ptg", config={"net": "degradation_encoder"}, card=card,
                        models_dir=models_dir)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.train.degradation_prior", description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--patch", type=int, default=96)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--val-count", type=int, default=450)
    p.add_argument("--export", action="store_true")
    p.add_argument("--models-dir", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(args.threads)
    model, facts = train(args.steps, args.batch, args.patch, args.lr, args.workers, args.val_count)
    log.info("val accuracy %.3f; per class %s", facts["val_accuracy"], facts["per_class"])
    if args.export:
        command = (f"python -m app.train.degradation_prior --steps {args.steps} --batch {args.batch} "
                   f"--patch {args.patch} --export")
        log.info("exported %s", export(model, facts, command, args.models_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
