"""PTG refiner and degradation prior: shapes, the < 1 M parameter budget, identity at initialisation,
gradients, locality (what tiling relies on) and the safetensors round trip."""

from __future__ import annotations

import pytest
import torch

from app.core.nets import ptg
from app.core.nets.flops import count_flops_per_pixel


def _pair(b: int = 1, h: int = 64, w: int = 96) -> torch.Tensor:
    return torch.rand(b, 6, h, w)


@pytest.mark.parametrize("prior", ["vgg", "degradation", "none"])
def test_refiner_shape_and_budget(prior: str) -> None:
    net = ptg.build("refiner", "fast", prior=prior).eval()
    x = _pair(2, 64, 96)
    with torch.no_grad():
        y = net(x)
    assert y.shape == (2, 3, 64, 96)
    assert torch.isfinite(y).all()
    assert net.trainable_parameters() < 1_000_000  # the budget (the frozen prior excluded)
    # FLOPs of the whole thing (prior included) stay well under the denoiser's 150 kFLOP/px
    assert count_flops_per_pixel(net, torch.rand(1, 6, 128, 128)) < 100_000


def test_identity_at_initialisation() -> None:
    """Zero-initialised heads: an untrained refiner hands the op's output back unchanged."""
    net = ptg.build("refiner", "fast", prior="none").eval()
    x = _pair(1, 48, 40)
    with torch.no_grad():
        y = net(x)
    torch.testing.assert_close(y, x[:, 3:], atol=1e-6, rtol=0)


def test_gradients_reach_the_refiner_but_not_the_prior() -> None:
    net = ptg.build("refiner", "fast", prior="degradation")
    # leave the zero-init so the mask / residual convs get gradients through a non-trivial head
    torch.nn.init.normal_(net.head.weight, std=0.01)
    net(_pair(2, 32, 32)).square().mean().backward()
    assert all(p.grad is None for p in net.prior.parameters())
    trained = [n for n, p in net.named_parameters() if not n.startswith("prior.")]
    assert all(dict(net.named_parameters())[n].grad is not None for n in trained)


def test_rejects_bad_inputs() -> None:
    net = ptg.build("refiner", "fast", prior="none")
    with pytest.raises(ValueError, match="6 channels"):
        net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 6, 30, 32))
    with pytest.raises(ValueError, match="prior"):
        ptg.build("refiner", "fast", prior="clip")


def test_locality_allows_tiling() -> None:
    """A change far from a pixel leaves it unchanged (no image-wide pooling): beyond the declared overlap
    of 128 px the output does not depend on the input, so overlapping tiles agree."""
    net = ptg.build("refiner", "fast", prior="none").eval()
    torch.nn.init.normal_(net.head.weight, std=0.05)
    x = _pair(1, 64, 512)
    x2 = x.clone()
    x2[..., :, 448:] = torch.rand(1, 6, 64, 64)  # change the right end only
    with torch.no_grad():
        y, y2 = net(x), net(x2)
    diff = (y - y2).abs().amax(dim=(0, 1, 2))
    assert diff[:256].max() < 1e-6  # > 192 px away: untouched up to float rounding (same positional grid)
    assert diff[448:].max() > 0


def test_degradation_encoder_heads() -> None:
    enc = ptg.build("degradation_encoder").eval()
    x = torch.rand(3, 3, 64, 64)
    assert enc(x).shape == (3, ptg.DegradationEncoder.out_channels, 8, 8)
    assert enc.logits(x).shape == (3, len(ptg.DEGRADATION_CLASSES))


def test_roundtrip(roundtrip) -> None:
    roundtrip(ptg.build("refiner", "fast", prior="degradation"), ptg.build("refiner", "fast", prior="degradation"),
              _pair(1, 32, 32))
