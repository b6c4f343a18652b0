"""ModelDescriptor validation and the models_dir() lookup."""

from __future__ import annotations

import sys

import pytest

from app.core.models.descriptor import ModelDescriptor
from app.core.models.manifest import models_dir


def test_defaults_and_copies():
    config = {"width": 16}
    d = ModelDescriptor(id="x_net", arch="x", config=config)
    config["width"] = 99  # the caller's dict is not the descriptor's
    assert d.config == {"width": 16}
    assert d.value_range == (0.0, 1.0) and d.size_multiple == 1 and d.scale == 1 and d.tile_safe
    assert hash(d) == hash(ModelDescriptor(id="x_net", arch="x", config={"width": 16}))
    with pytest.raises(AttributeError):
        d.overlap = 3  # frozen


@pytest.mark.parametrize(("fields", "message"), [
    ({"id": "Bad Id"}, "invalid model id"),
    ({"id": "../evil"}, "invalid model id"),
    ({"arch": ""}, "arch must be set"),
    ({"input_space": "lab"}, "input_space 'lab' is not one of bayer4, linear_rgb, srgb"),
    ({"input_space": "bayer4", "in_channels": 1}, "bayer4 input has 4 channels"),
    ({"size_multiple": 0}, "size_multiple must be a positive int"),
    ({"scale": 1.5}, "scale must be a positive int"),
    ({"overlap": -1}, "overlap must be a non-negative int"),
    ({"value_range": (1, 0)}, "value_range"),
])
def test_invalid_descriptors_are_rejected(fields, message):
    kw = {"id": "ok", "arch": "a", **fields}
    with pytest.raises(ValueError, match=message):
        ModelDescriptor(**kw)


def test_models_dir_env_frozen_and_repo(monkeypatch, tmp_path, repo_dir):
    monkeypatch.delenv("PHOTORESTORE_MODELS_DIR", raising=False)
    assert models_dir() == repo_dir / "models"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)  # PyInstaller onefile/onedir
    assert models_dir() == tmp_path / "models"
    monkeypatch.setenv("PHOTORESTORE_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert models_dir() == tmp_path / "elsewhere"


def test_repo_manifest_is_valid(repo_dir, monkeypatch):
    from app.core.models.manifest import read_manifest

    entries = read_manifest(repo_dir / "models")  # parses; shipped entries must all be well formed
    assert all(not e.problem for e in entries.values())
