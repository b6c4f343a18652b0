"""Every net trains: one backward pass reaches every parameter with a finite gradient."""

import pytest
import torch

from app.core.nets import cycleisp, deblurgan, kind
from app.core.nets.vgg import VGGFeatures

CASES = {
    "srgb_denoiser": (cycleisp, lambda: (torch.rand(2, 3, 16, 16),)),
    "raw_denoiser": (cycleisp, lambda: (torch.rand(2, 4, 8, 8), torch.rand(2, 4, 8, 8))),
    "rgb2raw": (cycleisp, lambda: (torch.rand(2, 3, 16, 16),)),
    "raw2rgb": (cycleisp, lambda: (torch.rand(2, 4, 8, 8), torch.rand(2, 3, 16, 16))),
    "decomposition": (kind, lambda: (torch.rand(2, 3, 16, 16),)),
    "restoration": (kind, lambda: (torch.rand(2, 3, 16, 16), torch.rand(2, 1, 16, 16))),
    "adjustment": (kind, lambda: (torch.rand(2, 1, 16, 16), torch.tensor([0.5, 3.0]))),
    "generator": (deblurgan, lambda: (torch.rand(2, 3, 32, 32) * 1.6 - 0.8,)),
    "discriminator": (deblurgan, lambda: (torch.rand(2, 3, 64, 64) * 2 - 1,)),
}


def _total(out: object) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return (out**2).mean()
    values = out.values() if isinstance(out, dict) else out
    return sum((v**2).mean() for v in values)


@pytest.mark.parametrize("net", list(CASES))
def test_backward_reaches_every_parameter(net):
    family, make_inputs = CASES[net]
    model = family.build(net, "fast").train()
    if net == "adjustment":
        # Its curve head starts at zero (identity), which would stop gradients to the body at step 0.
        torch.nn.init.normal_(model.head.weight, std=0.1)
    _total(model(*make_inputs())).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} received no gradient"
        assert torch.isfinite(p.grad).all(), name
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


def test_vgg_perceptual_gradient_reaches_input_only():
    vgg = VGGFeatures(layers=("conv3_3",))
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    vgg(x)["conv3_3"].pow(2).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in vgg.parameters())
