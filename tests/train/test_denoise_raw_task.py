"""The denoise_raw task: unprocessed packed-RAW pairs with their variance map, and the 8-channel forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.models.descriptor import ModelDescriptor
from app.train.config import load_config, merge
from app.train.splits import load_splits
from app.train.tasks import TASKS, get_task
from app.train.tasks.denoise_raw import PackedRawNoise

pytestmark = pytest.mark.usefixtures("datasets_dir")


def test_packed_raw_noise_gives_noisy_clean_and_the_variance_of_the_noisy_values():
    rng = np.random.default_rng(0)
    clean = np.clip(rng.uniform(0.2, 0.8, (1, 1, 3)) + np.zeros((64, 96, 3)), 0, 1).astype(np.float32)
    noisy, target, info = PackedRawNoise(noise_models=("dnd",))(clean, np.random.default_rng(1))
    assert noisy.shape == target.shape == info["variance"].shape == (32, 48, 4)
    shot, read = info["noise"]["shot"], info["noise"]["read"]
    np.testing.assert_allclose(info["variance"], shot * np.maximum(noisy, 0) + read, rtol=1e-5)
    # The residual is noise of about that variance (quantisation adds a little), not a colour shift.
    z = (noisy - target) / np.sqrt(shot * target + read)
    assert abs(float(z.mean())) < 0.1 and 0.8 < float(z.std()) < 1.25
    assert info["isp"] and info["bits"] in (12, 14)
    # A flat colour unprocesses to flat planes: the clean target really is a mosaic of one RGB value.
    assert np.ptp(target.reshape(-1, 4), axis=0).max() < 1e-5


def test_denoise_raw_builds_data_and_model_and_takes_a_step():
    assert "denoise_raw" in TASKS
    task = get_task("denoise_raw")
    cfg = merge(load_config("denoise_raw"), {
        "model": {"num_rrg": 1, "num_dab": 1},  # a thin "fast" preset: same code paths
        "data": {"patch": 32, "batch": 2, "fetch_wallpapers": False, "sources": [{"name": "live1", "weight": 1.0}]}})
    data = task.build_data(cfg, load_splits(), "train")
    sample = data[(0, 0)]
    assert sample["lq"].shape == sample["gt"].shape == sample["variance"].shape == (4, 16, 16)
    assert not torch.equal(sample["lq"], sample["gt"]) and bool((sample["variance"] > 0).all())
    model = task.build_model(cfg)
    assert task.arch(cfg) == ("cycleisp", {"net": "raw_denoiser", "config": "fast", "num_rrg": 1, "num_dab": 1})
    batch = {k: torch.stack([sample[k], data[(0, 1)][k]]) for k in ("lq", "gt", "variance")}
    pred = task.forward(model, batch)
    assert pred.shape == batch["gt"].shape
    torch.nn.functional.l1_loss(pred, batch["gt"]).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    desc = task.descriptor(cfg, "x_raw")
    assert isinstance(desc, ModelDescriptor) and (desc.in_channels, desc.cond_channels) == (8, 4)


def test_denoise_raw_rejects_odd_patches():
    cfg = merge(load_config("denoise_raw"), {"data": {"patch": 33}})
    with pytest.raises(ValueError, match="even"):
        get_task("denoise_raw").build_data(cfg, load_splits(), "train")


def test_develop_loss_compares_developed_images_and_keeps_gradients():
    from app.core.isp.synthetic_camera import process
    from app.train.tasks.denoise_raw import isp_from_vector

    task = get_task("denoise_raw")
    cfg = merge(load_config("denoise_raw_developed"), {
        "model": {"num_rrg": 1, "num_dab": 1}, "train": {"init_from": ""},
        "data": {"patch": 32, "batch": 2, "fetch_wallpapers": False, "sources": [{"name": "live1", "weight": 1.0}]}})
    data = task.build_data(cfg, load_splits(), "train")
    samples = [data[(0, i)] for i in range(2)]
    batch = {k: torch.stack([s[k] for s in samples]) for k in ("lq", "gt", "variance", "isp_vec")}
    raw_gt = batch["gt"].clone()
    cam = isp_from_vector(batch["isp_vec"][0])
    assert cam.rgb_to_cam.shape == (3, 3) and cam.red_gain > 1 and cam.tone_curve
    model = task.build_model(cfg)
    pred = task.forward(model, batch)
    # Target and input are now sRGB renders by each sample's own camera, at sensor resolution.
    assert pred.shape == batch["gt"].shape == batch["lq"].shape == (2, 3, 32, 32)
    torch.testing.assert_close(batch["gt"][:1], process(raw_gt[:1], cam))
    torch.nn.functional.l1_loss(pred, batch["gt"]).backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_init_from_starts_at_the_exported_weights(tmp_path):
    from app.core.models.registry import clear_loaded, load_model
    from app.train.runner import Runner

    cfg = merge(load_config("denoise_raw_developed"), {
        "threads": 1, "data": {"patch": 32, "batch": 2, "num_workers": 0, "fetch_wallpapers": False,
                               "sources": [{"name": "live1", "weight": 1.0}]}})
    clear_loaded()
    run = Runner(cfg, device="cpu", run_dir=tmp_path)
    shipped = load_model("cycleisp_raw_denoise", "cpu").module.state_dict()
    assert all(torch.equal(v, shipped[k]) for k, v in run.model.state_dict().items())
    with pytest.raises(ValueError, match="does not fit"):
        Runner(merge(cfg, {"model": {"num_rrg": 1}}), device="cpu", run_dir=tmp_path / "b")
