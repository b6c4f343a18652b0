"""``photorestore run --backend``: the choice reaches the models (same output within the precision policy)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from app.cli import _parser, main
from app.core.infer.backends import BACKEND_CHOICES, backend_available
from app.core.io import load_image


def _jpeg(path, size):
    g = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size[1], 0:size[0]]
    arr = np.stack([yy * 2, xx * 2, (yy + xx)], axis=2) % 256 + g.integers(0, 20, (size[1], size[0], 3))
    PILImage.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path, quality=95)
    return path


def test_backend_choices_match_the_core():
    action = next(a for a in _parser()._subparsers._group_actions[0].choices["run"]._actions
                  if a.dest == "backend")
    assert tuple(action.choices) == BACKEND_CHOICES


@pytest.mark.skipif(not backend_available("onnxruntime"), reason="onnxruntime not installed")
def test_run_deblur_on_torch_and_onnxruntime_agree(tmp_path, monkeypatch):
    src = _jpeg(tmp_path / "in.jpg", size=(128, 96))
    outs = {}
    for backend in ("torch", "onnxruntime"):
        out = tmp_path / backend
        assert main(["run", str(src), "-o", str(out), "--op", "deblur", "--backend", backend, "--format", "png16"]) == 0
        outs[backend] = load_image(next(out.iterdir())).data
    assert np.abs(outs["torch"] - outs["onnxruntime"]).max() <= 2 / 65535  # float32 on both: rounding only
    with pytest.raises(SystemExit):
        main(["run", str(src), "-o", str(tmp_path / "x"), "--backend", "nope"])
