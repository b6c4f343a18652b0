"""The JPEG artefact net: shapes, the identity at init, works on the 8x8 grid, quality reaches the output."""

from __future__ import annotations

import pytest
import torch

from app.core.nets.dejpeg import DeJpegNet, build


def _perturbed(**kw) -> DeJpegNet:
    net = DeJpegNet(**kw)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.eval()


def test_shapes_and_exact_identity_at_init():
    net = build(channels=8, depth=2, fine=4).eval()
    x = torch.rand(2, 4, 24, 32)
    with torch.no_grad():
        y = net(x)
    assert y.shape == (2, 3, 24, 32)
    assert torch.equal(y, x[:, :3])  # zero last conv: an untrained net changes nothing
    with pytest.raises(ValueError, match="quality map"):
        net(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 4, 12, 16))


@pytest.mark.parametrize("fine", [0, 4])
def test_quality_channel_changes_the_output_and_state_dict_round_trips(fine):
    torch.manual_seed(0)
    net = _perturbed(channels=8, depth=2, fine=fine)
    img = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        lo = net(torch.cat([img, torch.full((1, 1, 16, 16), 0.2)], 1))
        hi = net(torch.cat([img, torch.full((1, 1, 16, 16), 0.9)], 1))
    assert lo.shape == (1, 3, 16, 16) and not torch.allclose(lo, hi)
    twin = DeJpegNet(channels=8, depth=2, fine=fine).eval()
    twin.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.equal(twin(torch.cat([img, torch.full((1, 1, 16, 16), 0.2)], 1)), lo)


def test_the_net_is_tied_to_the_8x8_grid():
    """A shift by a whole block moves the output with it; a shift by 4 px does not (the grid is built in)."""
    torch.manual_seed(1)
    net = _perturbed(channels=8, depth=1, fine=0)  # no full-resolution head: pure block processing
    x = torch.cat([torch.rand(1, 3, 64, 64), torch.full((1, 1, 64, 64), 0.3)], 1)
    with torch.no_grad():
        y = net(x)
        by8 = net(x[..., :, 8:])  # drop one block column: the grid stays aligned with the content
        by4 = net(x[..., :, 4:60])  # drop half a block: the content moves against the grid
    inner = (..., slice(16, 48), slice(24, 40))  # far from the borders the 1-block receptive field sees
    assert torch.allclose(by8[..., 16:48, 16:32], y[inner], atol=1e-5)
    assert not torch.allclose(by4[..., 16:48, 20:36], y[inner], atol=1e-3)


@pytest.mark.parametrize("kwargs", [{"channels": 96, "depth": 3, "fine": 16}, {"channels": 40, "depth": 5, "fine": 0}])
def test_config_of_reads_the_architecture_back_from_the_weights(kwargs):
    """bench/dejpeg.py --checkpoint builds a wider run's net (dejpeg_wide) from its state dict."""
    from app.core.nets.dejpeg import config_of

    assert config_of(DeJpegNet(**kwargs).state_dict()) == kwargs
