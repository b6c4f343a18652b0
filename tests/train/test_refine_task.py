"""The PTG ``refine`` task (on the shipped denoiser and KinD nets) and the degradation prior's labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.nets.ptg import DEGRADATION_CLASSES
from app.train.config import load_config, merge
from app.train.splits import load_splits
from app.train.tasks import get_task

pytestmark = pytest.mark.usefixtures("datasets_dir")


def _cfg(name: str, prior: str = "none") -> dict:
    return merge(load_config(name), {
        "model": {"prior": prior},
        "data": {"patch": 64, "batch": 2, "fetch_wallpapers": False, "sources": [{"name": "live1", "weight": 1.0}]}})


@pytest.mark.parametrize("name", ["refine_denoise", "refine_lowlight"])
def test_refine_task_scores_the_op_as_its_input(name):
    """``forward`` swaps ``lq`` for the frozen op's output: validation's input_psnr is the op's own PSNR,
    and an untrained refiner (identity at initialisation) returns exactly that output."""
    task = get_task("refine")
    cfg = _cfg(name)
    data = task.build_data(cfg, load_splits(), "train")
    batch = torch.utils.data.default_collate([data[(0, 0)], data[(0, 1)]])
    degraded = batch["lq"].clone()
    model = task.build_model(cfg)
    pred = task.forward(model, batch)
    assert pred.shape == degraded.shape
    assert not torch.equal(batch["lq"], degraded)  # the op changed the image...
    torch.testing.assert_close(pred, batch["lq"], atol=1e-6, rtol=0)  # ...and the refiner starts at it
    torch.nn.init.normal_(model.head.weight, std=0.01)
    pred = task.forward(model, {**batch, "lq": degraded})
    torch.nn.functional.l1_loss(pred, batch["gt"]).backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if not n.startswith("prior."))
    arch, kwargs = task.arch(cfg)
    assert arch == "ptg" and "base" not in kwargs and "data_task" not in kwargs


def test_refine_task_loads_the_pretrained_degradation_prior():
    from app.core.models.registry import load_model, model_state

    if not model_state("ptg_degradation_prior").ok:
        pytest.skip("ptg_degradation_prior is not exported")
    model = get_task("refine").build_model(_cfg("refine_denoise", "degradation"))
    shipped = load_model("ptg_degradation_prior", "cpu").module.state_dict()
    for k, v in model.prior.state_dict().items():
        assert torch.equal(v, shipped[k])


def test_degradation_labels_follow_what_was_sampled():
    from app.train.degradation_prior import LabelledDegradation

    deg = LabelledDegradation()
    rng = np.random.default_rng(0)
    clean = np.random.default_rng(1).uniform(0.2, 0.8, (48, 48, 3)).astype(np.float32)
    seen = set()
    for _ in range(120):
        lq, gt, info = deg(clean, rng)
        name = DEGRADATION_CLASSES[info["label"]]
        seen.add(name)
        assert lq.shape == clean.shape
        if name == "clean":
            assert np.array_equal(lq, clean)
        elif name.startswith("lowlight"):
            assert lq.mean() < clean.mean()
    assert seen == set(DEGRADATION_CLASSES)  # every class is drawn
