"""Every config's model card facts come from the catalog: an experiment of a shipped family shares its
channels, value range and tile policy (declared once, in app/core/models/catalog.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.core.models.registry import get_descriptor
from app.train.config import load_config
from app.train.tasks import get_task

CONFIGS = sorted(p.stem for p in (Path(__file__).parents[2] / "app" / "train" / "configs").glob("*.toml")
                 if p.stem != "tiny_test")
FACTS = ("arch", "input_space", "in_channels", "cond_channels", "out_channels", "value_range", "size_multiple",
         "overlap", "cpu_tile", "runtime_tile", "tile_cap", "min_tile", "half_ok", "bytes_per_pixel")


#: task -> the shipped model whose facts its experiments share (refine: per base op)
FAMILY = {"denoise_srgb": "cycleisp_srgb_denoise", "denoise_raw": "cycleisp_raw_denoise", "deblur": "deblurgan_fast",
          "dejpeg": "dejpeg_fast", "isp": "cycleisp_learned_isp", "kind_decompose": "kind_decomposition",
          "kind_restore": "kind_restoration", "kind_adjust": "kind_adjustment"}


@pytest.mark.parametrize("name", CONFIGS)
def test_an_experiment_declares_the_facts_of_its_shipped_family(name):
    cfg = load_config(name)
    task = get_task(cfg["task"])
    desc = task.descriptor(cfg, f"experiment_{name}")
    assert (desc.id, desc.config) == (f"experiment_{name}", task.arch(cfg)[1])
    family = FAMILY.get(cfg["task"]) or f"ptg_refine_{cfg['model']['base']}"
    if task.arch(cfg)[1].get("config") == "full":
        family += "_full"
    ref = get_descriptor(family)
    assert [getattr(desc, f) for f in FACTS] == [getattr(ref, f) for f in FACTS]
    assert desc.description == ref.description


def test_a_full_preset_takes_the_full_entrys_facts():
    cfg = load_config("denoise_srgb")
    cfg["model"]["preset"] = "full"
    desc = get_task("denoise_srgb").descriptor(cfg, "x_full")
    full = get_descriptor("cycleisp_srgb_denoise_full")
    assert dataclasses.replace(desc, id=full.id) == full
