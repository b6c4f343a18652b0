"""Configs (defaults, validation, hash) and checkpoint files (atomic, RNG round trip, safe loading)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from app.train import checkpoint as ckpt_io
from app.train.config import CONFIG_DIR, config_hash, load_config, merge


def test_every_repo_config_loads_with_a_known_task():
    from app.train.tasks import TASKS

    configs = sorted(CONFIG_DIR.glob("*.toml"))
    assert any(p.stem == "tiny_test" for p in configs)
    for path in configs:
        cfg = load_config(path)
        assert cfg["task"] in TASKS and cfg["name"] == path.stem
        assert cfg["train"]["steps"] > 0 and cfg["data"]["sources"]


def test_unknown_keys_fail_and_overrides_merge(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('task = "tiny_test"\nlearning_rate = 1\n')
    with pytest.raises(ValueError, match="unknown keys"):
        load_config(bad)
    cfg = load_config("tiny_test", {"train": {"steps": 7}})
    assert cfg["train"]["steps"] == 7 and cfg["train"]["lr"] == pytest.approx(2e-3)
    assert merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}}) == {"a": {"b": 1, "c": [2]}}


def test_hash_ignores_where_and_how_often_but_not_what():
    cfg = load_config("tiny_test")
    same = merge(cfg, {"data": {"num_workers": 1}, "train": {"checkpoint_minutes": 1.0}, "threads": 2})
    assert config_hash(same) == config_hash(cfg)
    assert config_hash(merge(cfg, {"train": {"lr": 1e-4}})) != config_hash(cfg)


def test_rng_state_round_trip_through_a_safe_checkpoint(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    path = ckpt_io.atomic_save({"format": ckpt_io.FORMAT, "rng": ckpt_io.rng_state()}, tmp_path / "c.pth")
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(9), np.random.seed(9), random.seed(9)
    ckpt_io.set_rng_state(ckpt_io.load(path)["rng"])  # load() uses weights_only=True
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(expected[0], got[0]) and np.array_equal(expected[1], got[1]) and expected[2] == got[2]
    assert [p.name for p in tmp_path.iterdir()] == ["c.pth"]  # no temporary file left behind


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("disk full")  # stands in for any failure half way through the write


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path):
    path = ckpt_io.atomic_save({"format": ckpt_io.FORMAT, "step": 1}, tmp_path / "latest.pth")
    with pytest.raises(RuntimeError, match="disk full"):
        ckpt_io.atomic_save({"format": ckpt_io.FORMAT, "step": 2, "bad": _Unpicklable()}, path)
    assert ckpt_io.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pth"]
