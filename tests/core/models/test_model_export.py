"""export_model: weights + card + manifest entry, then the states a user would see."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import safetensors
import torch

from app.core.models.export import export_model
from app.core.models.manifest import read_manifest
from app.core.models.registry import load_model, model_state, register
from app.core.models.testing import TINY_ARCH, TinyConvNet, build_tiny, tiny_descriptor

CONFIG = {"width": 8, "depth": 3}
CARD = {
    "description": "Tiny denoiser used to test the export step.",
    "training_data": [{"name": "Synthetic noise", "licence": "CC0-1.0"},
                      {"name": "PolyU pairs", "licence": "research only", "url": "https://example.org/polyu"}],
    "licence": "GPL-3.0-or-later",
    "command": "python -m app.train configs/tiny.toml --max-minutes 1",
    "iterations": 50, "wall_time_s": 4000, "hardware": "2-core CPU",
    "metrics": {"psnr": 30.5, "ssim": 0.91},
}


def export(model_id="tiny_exp", net=None, **kw):
    net = net or TinyConvNet(**CONFIG)
    return export_model(model_id, net, arch=TINY_ARCH, config=CONFIG, card=CARD, **kw)


def test_export_then_verified_corrupt_missing(models_tmp):
    register(tiny_descriptor("tiny_exp", config=CONFIG), build_tiny)
    path = export(created=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
    assert re.fullmatch(r"tiny_exp-[0-9a-f]{8}\.safetensors", path.name) and path.parent == models_tmp
    entry = read_manifest()["tiny_exp"]
    assert entry.file == path.name and path.name[9:17] == entry.sha256[:8]
    assert entry.architecture == TINY_ARCH and entry.config == CONFIG and entry.trained
    assert entry.licence == "GPL-3.0-or-later" and entry.created == "2026-01-02T03:04:05Z"
    assert entry.training_data == "Synthetic noise (CC0-1.0); PolyU pairs (research only)"
    assert entry.metrics == {"psnr": 30.5, "ssim": 0.91} and entry.card == "tiny_exp.md"
    assert model_state("tiny_exp").name == "verified"
    assert load_model("tiny_exp", "cpu").sha256 == entry.sha256

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the tensor data
    path.write_bytes(bytes(data))
    assert model_state("tiny_exp").name == "corrupt"
    path.unlink()
    state = model_state("tiny_exp")
    assert state.name == "missing" and path.name in state.message


def test_card_and_safetensors_metadata(models_tmp):
    path = export(descriptor=tiny_descriptor("tiny_exp", config=CONFIG))
    card = (models_tmp / "tiny_exp.md").read_text()
    for needle in ("# tiny_exp", "Tiny denoiser", "`tiny_conv`", path.name, "GPL-3.0-or-later",
                   "**PolyU pairs** -- licence: research only -- <https://example.org/polyu>",
                   "`python -m app.train configs/tiny.toml --max-minutes 1`", "Iterations: 50",
                   "Wall time: 67 min", "Hardware: 2-core CPU", "| psnr | 30.5 |", "srgb, 3 channels",
                   "| Parameters | 1,027", "FLOPs per output pixel | 2.02 k", '"width": 8'):
        assert needle in card, needle
    with safetensors.safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
    assert meta["photorestore.id"] == "tiny_exp" and meta["photorestore.architecture"] == TINY_ARCH
    assert meta["photorestore.config"] == '{"depth": 3, "width": 8}'


def test_reexport_replaces_entry_and_old_file(models_tmp):
    first = export()
    torch.manual_seed(5)
    second = export(net=TinyConvNet(**CONFIG))
    assert first != second and not first.exists() and second.exists()
    assert read_manifest()["tiny_exp"].file == second.name
    export("other_model")
    assert set(read_manifest()) == {"tiny_exp", "other_model"}
    names = sorted(p.name for p in models_tmp.iterdir())
    assert names == sorted(["manifest.toml", second.name, "tiny_exp.md", "other_model.md",
                            read_manifest()["other_model"].file])


def test_state_dict_with_tied_weights(models_tmp):
    net = TinyConvNet(**CONFIG)
    sd = net.state_dict()
    sd["alias.weight"] = sd["body.0.weight"]  # shares storage: safetensors would refuse it as is
    path = export_model("tied", sd, arch=TINY_ARCH, config=CONFIG, card=CARD)
    assert path.exists() and read_manifest()["tied"].sha256


@pytest.mark.parametrize(("kw", "message"), [
    ({"card": {"training_data": "x"}}, "licence and the training data"),
    ({"card": {"licence": "MIT"}}, "licence and the training data"),
    ({"config": {"width": None}}, "cannot write NoneType"),
    ({"model_id": "Bad id"}, "invalid model id"),
    ({"arch": "not_tiny"}, "registered as 'tiny_conv'"),
])
def test_invalid_exports_write_nothing(models_tmp, kw, message):
    register(tiny_descriptor("tiny_exp"), build_tiny)
    args = {"model_id": "tiny_exp", "arch": TINY_ARCH, "config": CONFIG, "card": CARD, **kw}
    with pytest.raises(ValueError, match=message):
        export_model(args.pop("model_id"), TinyConvNet(**CONFIG), **args)
    assert list(models_tmp.iterdir()) == []
