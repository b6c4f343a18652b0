"""Growing a trained net wider and deeper (``train.init_grow``, app/train/grow.py) keeps its function.

Issue 26: the 96-channel dejpeg body plateaued; ``dejpeg_wide`` continues from its weights at 160 channels
and one more residual block, which must start exactly where the narrow net was, and still learn.
"""

from __future__ import annotations

import pytest
import torch

from app.core.nets.dejpeg import DeJpegNet
from app.train.grow import grow_state
from app.train.runner import init_weights


def _trained_like(net: torch.nn.Module) -> torch.nn.Module:
    """Non-zero everywhere (a fresh DeJpegNet's last conv is zero, which would hide a wrong copy)."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net


def _input() -> torch.Tensor:
    torch.manual_seed(4)
    x = torch.rand(2, 4, 32, 48)
    x[:, 3] = 0.35
    return x


def test_the_grown_dejpeg_net_computes_what_the_narrow_one_did(tmp_path):
    from safetensors.torch import save_file

    old = _trained_like(DeJpegNet(channels=24, depth=2, fine=8)).eval()
    path = tmp_path / "old.safetensors"
    save_file({k: v.contiguous() for k, v in old.state_dict().items()}, str(path))
    torch.manual_seed(0)
    new = DeJpegNet(channels=40, depth=3, fine=8).eval()
    init_weights(new, str(path), ("body.2.b",), grow=True)
    x = _input()
    with torch.no_grad():
        assert torch.allclose(new(x), old(x), atol=1e-6)
        assert not torch.allclose(old(x), x[:, :3], atol=1e-3)  # the check is not about an identity net
    # old tensors sit in the leading corner; the new block's first conv stays random (it must learn)
    assert torch.equal(new.head.weight[:24], old.head.weight)
    assert torch.equal(new.body[1].a.weight[:24, :24], old.body[1].a.weight)
    assert new.body[2].a.weight.abs().sum() > 0 and new.body[2].b.weight.abs().sum() == 0


def test_the_new_capacity_gets_gradients():
    old = _trained_like(DeJpegNet(channels=16, depth=1, fine=4))
    torch.manual_seed(0)
    new = DeJpegNet(channels=24, depth=2, fine=4)
    new.load_state_dict(grow_state(new.state_dict(), old.state_dict(), zero=("body.1.b",)))
    loss = (new(_input()) - 0.5).square().mean()
    loss.backward()
    # zeroed weights from the new channels into old outputs, and the new block's zeroed conv, all move
    assert new.tail.weight.grad[:, 16:].abs().sum() > 0
    assert new.body[1].b.weight.grad.abs().sum() > 0


def test_what_does_not_fit_is_an_error():
    small, big = DeJpegNet(channels=16, depth=1, fine=4), DeJpegNet(channels=24, depth=1, fine=4)
    with pytest.raises(ValueError, match="does not fit"):
        grow_state(small.state_dict(), big.state_dict())  # shrinking
    with pytest.raises(ValueError, match="lacks"):
        grow_state(small.state_dict(), DeJpegNet(channels=16, depth=2, fine=4).state_dict())
