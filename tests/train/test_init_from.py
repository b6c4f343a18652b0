"""Every config that starts from other weights (``init_from``) can start: its model takes them.

Issue 23: ``deblur_fast`` could not start or resume once the shipped ``deblurgan_fast`` gained its
full-resolution skip (its model had no such module, so the weights had unexpected keys).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app.core.models.registry import model_state
from app.train.config import load_config
from app.train.runner import init_weights
from app.train.tasks import get_task

CONFIGS = sorted(p.stem for p in (Path(__file__).parents[2] / "app" / "train" / "configs").glob("*.toml"))
STARTS = [(n, load_config(n)["train"]["init_from"]) for n in CONFIGS]
STARTS = [(n, src) for n, src in STARTS if src]


def test_some_configs_start_from_other_weights():
    assert {"deblur_fast", "deblur_fast_256", "deblur_fast_fullskip32"} <= {n for n, _ in STARTS}


@pytest.mark.parametrize(("name", "source"), STARTS, ids=[n for n, _ in STARTS])
def test_the_config_model_takes_its_init_weights(name, source):
    if not source.endswith(".safetensors") and not model_state(source).ok:
        pytest.skip(f"{source} is not available here")
    cfg = load_config(name)
    torch.manual_seed(0)
    model = get_task(cfg["task"]).build_model(cfg)
    # raises ValueError naming the misfit
    init_weights(model, source, tuple(cfg["train"]["init_new"]), grow=bool(cfg["train"].get("init_grow")))
    if source.endswith(".safetensors"):
        return
    from app.core.models.registry import load_model

    ref = load_model(source, "cpu", backend="torch").module.state_dict()
    own = model.state_dict()
    new = tuple(cfg["train"]["init_new"])
    loaded = [k for k in ref if not k.startswith(new) or ref[k].shape == own[k].shape]
    assert loaded and all(torch.equal(own[k], ref[k]) for k in loaded if not k.startswith(new))


class _Net(torch.nn.Module):
    def __init__(self, skip: int) -> None:
        super().__init__()
        self.body = torch.nn.Conv2d(3, 4, 3)
        self.skip = torch.nn.Sequential(torch.nn.Conv2d(3, skip, 1), torch.nn.Conv2d(skip, 4, 1)) if skip else None


def _weights(tmp_path: Path, net: torch.nn.Module) -> str:
    from safetensors.torch import save_file

    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return str(path)


def test_a_resized_new_module_starts_fresh_as_a_whole(tmp_path):
    src = _Net(16)
    torch.manual_seed(1)
    dst = _Net(32)
    fresh = {k: v.clone() for k, v in dst.state_dict().items()}
    init_weights(dst, _weights(tmp_path, src), ("skip",))
    assert torch.equal(dst.body.weight, src.body.weight)
    # the second conv's bias has the same shape in both, but the module was resized: it stays fresh too
    assert all(torch.equal(dst.state_dict()[k], fresh[k]) for k in fresh if k.startswith("skip"))


def test_misfits_outside_new_modules_are_errors(tmp_path):
    with pytest.raises(ValueError, match="does not fit"):
        init_weights(_Net(0), _weights(tmp_path, _Net(16)))  # unexpected skip keys
    with pytest.raises(ValueError, match="does not fit"):
        init_weights(_Net(32), _weights(tmp_path, _Net(16)))  # resized, but not declared new
