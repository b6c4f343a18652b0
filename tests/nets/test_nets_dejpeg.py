"""The JPEG artefact net: shapes, near-identity at init, quality conditioning reaches the output."""

from __future__ import annotations

import pytest
import torch

from app.core.nets.dejpeg import DeJpegNet, build


def test_shapes_and_near_identity_at_init():
    net = build(channels=8, depth=2).eval()
    x = torch.rand(2, 4, 24, 30)
    with torch.no_grad():
        y = net(x)
    assert y.shape == (2, 3, 24, 30)
    assert (y - x[:, :3]).abs().max() < 0.05  # the last conv starts near zero
    with pytest.raises(ValueError, match="quality map"):
        net(torch.rand(1, 3, 8, 8))


def test_quality_channel_changes_the_output_and_state_dict_round_trips():
    net = DeJpegNet(channels=8, depth=2)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    img = torch.rand(1, 3, 16, 16)
    lo = net(torch.cat([img, torch.full((1, 1, 16, 16), 0.2)], 1))
    hi = net(torch.cat([img, torch.full((1, 1, 16, 16), 0.9)], 1))
    assert not torch.allclose(lo, hi)
    twin = DeJpegNet(channels=8, depth=2)
    twin.load_state_dict(net.state_dict())
    assert torch.equal(twin(torch.cat([img, torch.full((1, 1, 16, 16), 0.2)], 1)), lo)
