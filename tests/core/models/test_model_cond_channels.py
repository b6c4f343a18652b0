"""Descriptors with conditioning input channels (the RAW denoiser: packed RGGB + 4 variance planes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.core.models.descriptor import ModelDescriptor
from app.core.models.registry import get_descriptor, load_model
from app.core.models.testing import temporary_model

RAW = {"in_channels": 8, "cond_channels": 4, "out_channels": 4, "input_space": "bayer4", "size_multiple": 2}


def test_bayer4_counts_its_conditioning_channels():
    d = ModelDescriptor(id="raw_x", arch="a", **RAW)
    assert (d.in_channels, d.cond_channels) == (8, 4)
    with pytest.raises(ValueError, match=r"bayer4 input has 4 channels \(\+ 0 conditioning\), not 8"):
        ModelDescriptor(id="raw_x", arch="a", input_space="bayer4", in_channels=8, out_channels=4)
    with pytest.raises(ValueError, match="cond_channels must be"):
        ModelDescriptor(id="raw_x", arch="a", in_channels=3, cond_channels=3)


def test_loaded_model_takes_the_conditioned_input_and_says_what_it_expects(tmp_path):
    with temporary_model(tmp_path, "tiny_cond", **RAW) as desc:
        model = load_model(desc.id, "cpu")
        out = model(np.random.default_rng(0).random((20, 30, 8), dtype=np.float32))
        assert out.shape == (20, 30, 4)
        with pytest.raises(ValueError, match=r"expects \(N, 8, H, W\) bayer4 input \(4 image \+ 4 conditioning\)"):
            model.run_tensor(torch.zeros(1, 4, 20, 30))
        assert get_descriptor(desc.id).cond_channels == 4
        card = (tmp_path / f"{desc.id}.md").read_text()
        assert "8 channels (4 image + 4 conditioning)" in card
