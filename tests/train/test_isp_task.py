"""The learned camera pipeline's task: real RAW pairs line up, splits are disjoint, the batch packing puts
the parametric baseline beside the truth, and an exported pipeline drives the sRGB noise synthesis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from app.core.models.registry import clear_loaded
from app.core.models.testing import models_dir_env
from app.train.config import load_config, merge
from app.train.isp_pairs import RawFilePatches, UnprocessPair, raw_files, real_pair, split_columns
from app.train.runner import Runner

pytestmark = pytest.mark.usefixtures("datasets_dir")

SMALL = {"threads": 1, "data": {"patch": 32, "batch": 2, "epoch_length": 8, "cache_mb": 128,
                                "sources": [{"name": "live1", "weight": 1.0}]},
         "val": {"every": 1000, "count": 4, "patch": 32, "batch": 2, "sources": [{"name": "live1", "weight": 1.0}]},
         "train": {"steps": 2, "warmup": 0}}


def test_real_pair_is_the_mosaic_beside_its_development():
    kodak = next(p for p in raw_files(include_nc=True) if p.suffix.lower() == ".kdc")
    assert kodak not in raw_files()  # CC BY-NC-SA: never trained on  # small; its CFA needs an offset
    srgb, packed = real_pair(kodak)
    assert srgb.shape[0] == 2 * packed.shape[0] and srgb.shape[1] == 2 * packed.shape[1]
    assert srgb.min() >= 0 and srgb.max() <= 1 and packed.min() >= 0 and packed.max() <= 1
    # Aligned: the developed green and the mosaic's greens agree in structure (correlation over pixels).
    g_dev = srgb[0::2, 0::2, 1].ravel()
    g_raw = packed[..., 1].ravel()
    shifted = np.roll(packed[..., 1], 7, axis=1).ravel()
    assert np.corrcoef(g_dev, g_raw)[0, 1] > 0.8 > np.corrcoef(g_dev, shifted)[0, 1]


def test_train_and_val_columns_never_meet():
    for width in (766, 3522, 4128):
        t0, t1 = split_columns(width, "train")
        v0, v1 = split_columns(width, "val")
        assert t0 == 0 and t1 < v0 and v1 <= width and v0 % 2 == 0 and t1 % 2 == 0


def test_raw_patches_stay_in_their_split_and_on_the_bayer_grid():
    files = raw_files()
    ds = RawFilePatches(files, split="val", patch=64, length=8, seed=1)
    for i in range(8):
        s = ds[(0, i)]
        assert s["lq"].shape == (3, 64, 64) and s["gt"].shape == (4, 32, 32)
    srgb, packed = real_pair(files[0])
    sample = RawFilePatches(files[:1], split="train", patch=64, length=1, seed=3)[(0, 0)]
    # Find the crop in the full image: it must lie left of the validation columns, at an even offset.
    lq = sample["lq"].permute(1, 2, 0).numpy()
    ys, xs = np.nonzero(np.all(np.isclose(srgb[..., 0:1], lq[0, 0, 0], atol=1e-6), axis=2))
    hits = [(y, x) for y, x in zip(ys, xs) if y + 64 <= srgb.shape[0] and x + 64 <= srgb.shape[1]
            and np.allclose(srgb[y : y + 64, x : x + 64], lq, atol=1e-6)]
    assert hits and all(y % 2 == 0 and x % 2 == 0 and x + 64 <= split_columns(srgb.shape[1], "train")[1]
                        for y, x in hits)


def test_unprocess_pair_shapes():
    rng = np.random.default_rng(0)
    srgb, raw, info = UnprocessPair()(rng.uniform(size=(33, 40, 3)).astype(np.float32), rng)
    assert srgb.shape == (34, 40, 3) and raw.shape == (17, 20, 4) and "isp" in info


def test_forward_packs_truth_prediction_and_parametric_baseline(tmp_path):
    cfg = merge(load_config("isp_fast"), SMALL)
    run = Runner(cfg, device="cpu", run_dir=tmp_path / "run")
    batch = dict(next(iter(run.val_batches().values()))[0])
    srgb, raw = batch["lq"].clone(), batch["gt"].clone()
    pred = run.task.forward(run.model, batch)
    assert pred.shape == batch["gt"].shape == batch["lq"].shape == (2, 16, 16, 16)
    assert torch.equal(batch["gt"][:, :4], raw) and torch.equal(batch["gt"][:, 4:], F.pixel_unshuffle(srgb, 2))
    assert not torch.allclose(batch["lq"], batch["gt"])  # the nominal camera is not this one


def test_exported_pipeline_drives_learned_noise_synthesis(tmp_path):
    from app.train.degrade import LearnedRawNoise
    from app.train.exporting import export_run

    cfg = merge(load_config("isp_fast"), SMALL)
    with models_dir_env(tmp_path / "models"):
        clear_loaded()
        try:
            run = Runner(cfg, device="cpu", run_dir=tmp_path / "run")
            assert run.train() == "done"
            export_run(run, models_dir=tmp_path / "models")
            rng = np.random.default_rng(0)
            clean = rng.uniform(0.2, 0.8, size=(32, 32, 3)).astype(np.float32)
            noisy, target, info = LearnedRawNoise(noise_model="sidd")(clean, rng)
            assert noisy.shape == target.shape == clean.shape and info["isp"] == "learned"
            assert 0 <= noisy.min() and noisy.max() <= 1 and not np.allclose(noisy, target)
            from app.train.tasks.denoise_srgb import degradation

            learned = {"isp": "learned", "jpeg_p": 0.0, "noise_model": "sidd"}
            assert isinstance(degradation(merge(load_config("denoise_srgb"), {"degrade": learned})), LearnedRawNoise)
            with pytest.raises(ValueError, match="degrade.isp"):
                degradation(merge(load_config("denoise_srgb"), {"degrade": {**learned, "isp": "magic"}}))
        finally:
            clear_loaded()
