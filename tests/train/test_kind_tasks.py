"""The three KinD training tasks: data, KinD's decomposition loss, the stage targets, and a short chained run.

The chained run trains the decomposition for 2 steps, exports it into a temporary models directory, then
trains restoration and adjustment on top of that export: exactly the order and hand-over of
``scripts/train_kind.sh``, at toy size.
"""

from __future__ import annotations

import pytest
import torch

from app.core.models.registry import clear_loaded, load_model
from app.train.config import load_config, merge
from app.train.losses import LOSSES
from app.train.runner import Runner
from app.train.splits import load_splits
from app.train.tasks import get_task
from app.train.tasks.kind_adjust import alpha_of
from app.train.tasks.kind_decompose import KinDDecompositionLoss
from app.train.tasks.kind_restore import EXACT_FLOOR, exact_reflectance

pytestmark = pytest.mark.usefixtures("datasets_dir")

SMALL = {"threads": 1, "data": {"patch": 32, "batch": 2, "epoch_length": 16, "cache_mb": 128,
                                "sources": [{"name": "sice", "weight": 1.0}, {"name": "live1", "weight": 1.0}]},
         "val": {"every": 1000, "count": 2, "patch": 48, "batch": 2}, "train": {"steps": 2, "warmup": 0}}


def _cfg(name: str):
    return merge(load_config(name), SMALL)


def test_mixture_carries_ratio_for_real_and_synthetic_pairs():
    data = get_task("kind_decompose").build_data(_cfg("kind_decompose"), load_splits(), "train")
    assert data.sources == ["sice", "live1"]
    for sample in (data[(0, 0)], data[(0, len(data) - 1)]):  # SICE first, synthetic last
        assert sample["lq"].shape == sample["gt"].shape == (3, 32, 32)
        assert float(sample["ratio"]) > 1.0
        assert sample["lq"].mean() < sample["gt"].mean()  # the input is the darker frame


def test_decomposition_loss_prefers_a_consistent_decomposition():
    torch.manual_seed(0)
    r = torch.rand(2, 3, 16, 16)
    l_hi, l_lo = torch.full((2, 1, 16, 16), 0.8), torch.full((2, 1, 16, 16), 0.1)
    high, low = r * l_hi, r * l_lo
    good = torch.cat([r, l_lo, r, l_hi, low], 1)
    # The degenerate split the cross and prior terms exist for: the dark frame keeps its darkness in R.
    lazy = torch.cat([low, torch.ones_like(l_lo), r, l_hi, low], 1)
    for kw in ({}, {"cross": 0.3, "prior": 0.3}):
        loss = KinDDecompositionLoss(**kw)
        assert loss(good, high) < loss(lazy, high)
    # Task-only: the shared LOSSES take (image, image); this one a packed prediction.
    assert "kind_decomposition" not in LOSSES and "kind_decomposition" in get_task("kind_decompose").losses
    plain, full = KinDDecompositionLoss(), KinDDecompositionLoss(cross=0.3, prior=0.3)
    gap_plain = plain(lazy, high) - plain(good, high)
    gap_full = full(lazy, high) - full(good, high)
    assert gap_full > gap_plain  # the added terms widen the margin against the lazy split


def test_alpha_is_kinds_mean_ratio_with_a_floored_source():
    src = torch.full((1, 1, 4, 4), 0.2)
    assert float(alpha_of(src, src * 3)) == pytest.approx(3.0)
    assert float(alpha_of(torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 0.5))) == pytest.approx(16.0)


def test_exact_reflectance_reproduces_the_frame_where_lit_and_falls_back_in_shadow():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 8, 8) * 0.5
    r = torch.rand(1, 3, 8, 8)
    light = torch.full((1, 1, 8, 8), 0.6)
    light[..., :4] = EXACT_FLOOR / 100  # deep shadow on the left half
    target = exact_reflectance(image, torch.cat([r, light], 1))
    lit = (slice(None), slice(None), slice(None), slice(4, None))
    assert torch.allclose(target[lit] * light[lit], image[lit], atol=1e-6)  # colour and level kept exactly
    assert torch.allclose(target[..., :4], r[..., :4], atol=0.02)  # the noisy I / L is not trusted there
    assert target.min() >= 0 and target.max() <= 1
    # --bf16: the frozen decomposition returns bfloat16 under autocast; the target stays float32 (it crashed)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = exact_reflectance(image, torch.cat([r, light], 1).bfloat16())
    assert mixed.dtype == torch.float32 and torch.allclose(mixed, target, atol=0.02)


def test_chained_training_and_stage_targets(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path / "models"))
    clear_loaded()
    try:
        dec = Runner(_cfg("kind_decompose"), device="cpu", run_dir=tmp_path / "d")
        assert dec.train() == "done" and dec.step == 2
        from app.train.exporting import export_run

        export_run(dec, models_dir=tmp_path / "models")
        frozen = load_model("kind_decomposition", "cpu").module
        for name in ("kind_restore", "kind_adjust"):
            run = Runner(_cfg(name), device="cpu", run_dir=tmp_path / name)
            # A copy, as the runner and evaluate() pass: forward() replaces the dict's lq/gt.
            batch = dict(next(iter(run.val_batches().values()))[0])
            low, high = batch["lq"].clone(), batch["gt"].clone()
            with torch.no_grad():
                d_low, d_high = frozen(low), frozen(high)
            run.model.eval()
            pred = run.task.forward(run.model, batch)
            if name == "kind_restore":  # input: the frozen net's R_low; target: the normal frame's exact R
                assert run.model.reflectance_target == "exact"
                assert torch.allclose(batch["gt"], exact_reflectance(high, d_high), atol=1e-6)
                assert torch.allclose(batch["lq"], d_low[:, :3])
                assert pred.shape == d_high[:, :3].shape
            else:  # validation swaps every second sample: both directions are scored
                assert torch.allclose(batch["lq"][0], d_low[0, 3:]) and torch.allclose(batch["gt"][0], d_high[0, 3:])
                assert torch.allclose(batch["lq"][1], d_high[1, 3:]) and torch.allclose(batch["gt"][1], d_low[1, 3:])
                assert pred.shape == batch["gt"].shape
            assert run.train() == "done"
            metrics = run.validate()
            assert metrics["count"] == 2 and metrics["input_psnr"] > 0
    finally:
        clear_loaded()
