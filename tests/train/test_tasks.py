"""Task registry, the denoise_srgb wiring, and the data pack that carries a config's images to a GPU."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from app.train.config import load_config, merge
from app.train.sources import list_items
from app.train.splits import load_splits
from app.train.tasks import TASKS, get_task

# Reads ../shared/datasets (skipped where it is absent).
pytestmark = pytest.mark.usefixtures("datasets_dir")


def test_unknown_task_names_the_known_ones():
    with pytest.raises(KeyError, match="tiny_test"):
        get_task("sharpen_everything")
    assert {"tiny_test", "denoise_srgb"} <= set(TASKS)


@pytest.mark.skipif(importlib.util.find_spec("app.core.nets.cycleisp") is None
                    or importlib.util.find_spec("app.train.degrade") is None,
                    reason="denoise_srgb needs app/core/nets/cycleisp.py and app/train/degrade.py")
def test_denoise_srgb_builds_data_and_model_and_takes_a_step():
    from app.core.nets import cycleisp

    task = get_task("denoise_srgb")
    cfg = merge(load_config("denoise_srgb"), {
        "model": {"num_rrg": 1, "num_dab": 1},  # a thin version of the "fast" preset: same code paths
        "data": {"patch": 32, "batch": 2, "fetch_wallpapers": False,
                 "sources": [{"name": "live1", "weight": 1.0}, {"name": "polyu", "weight": 1.0}]}})
    data = task.build_data(cfg, load_splits(), "train")
    assert data.sources == ["live1", "polyu"]
    synthetic, real = data[(0, 0)], data[(0, len(data) - 1)]
    for s in (synthetic, real):
        assert s["lq"].shape == s["gt"].shape == (3, 32, 32)
        assert not torch.equal(s["lq"], s["gt"])
    model = task.build_model(cfg)
    arch, kwargs = task.arch(cfg)
    assert arch == "cycleisp" and type(cycleisp.build(**kwargs)) is type(model)
    batch = {k: torch.stack([synthetic[k], real[k]]) for k in synthetic}
    loss = torch.nn.functional.l1_loss(task.forward(model, batch), batch["gt"])
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_data_pack_keeps_scene_keys_and_the_split(tmp_path, monkeypatch):
    from app.train.datapack import pack

    cfg = load_config("tiny_test")
    files, size = pack(cfg, tmp_path, max_side=256)
    before = {it.key: it.scene for it in list_items("live1")}
    assert files == len(before) and size > 0
    monkeypatch.setenv("PHOTORESTORE_DATASETS", str(tmp_path / "datasets"))
    after = {it.key: it.scene for it in list_items("live1")}
    assert after == before
    assert all(p.suffix == ".jpg" for it in list_items("live1") for p in it.paths)
    assert len(load_splits().items("live1", "val")) == 3
