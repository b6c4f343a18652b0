import pytest
import torch
from torch import nn

from app.core.nets import deblurgan
from app.core.nets.blocks import crop_to
from app.core.nets.flops import count_flops_per_pixel
from app.core.nets.mobilenet import MobileNetV2Backbone


def test_backbone_taps():
    backbone = MobileNetV2Backbone()
    taps = backbone(torch.rand(1, 3, 64, 96))
    assert backbone.channels == (16, 24, 32, 64, 160)
    for i, t in enumerate(taps):
        assert t.shape == (1, backbone.channels[i], 64 // 2 ** (i + 1), 96 // 2 ** (i + 1))
    assert MobileNetV2Backbone(width_mult=0.5).channels == (8, 16, 16, 32, 80)


@pytest.mark.parametrize("config", ["fast", "quality"])
@pytest.mark.parametrize("size", [(32, 64), (37, 45)])
def test_generator_shape_and_range(config, size):
    model = deblurgan.build("generator", config).eval()
    x = torch.rand(1, 3, *size) * 2 - 1
    x[..., 0, 0] = 1.0  # saturated pixels must stay inside [-1, 1] after the residual
    x[..., 0, 1] = -1.0
    with torch.no_grad():
        y = model(x)
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1


def test_padding_helper_matches_internal_padding():
    model = deblurgan.build("generator", "fast").eval()
    x = torch.rand(1, 3, 40, 50) * 2 - 1
    padded, size = deblurgan.pad_to_multiple(x, model.size_multiple)
    assert padded.shape[-2:] == (64, 64)
    with torch.no_grad():
        torch.testing.assert_close(crop_to(model(padded), size), model(x))


@pytest.mark.parametrize("config", ["fast", "quality"])
def test_zeroed_head_returns_input(config):
    model = deblurgan.build("generator", config).eval()
    for p in model.final.parameters():
        nn.init.zeros_(p)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(x), x)


def test_fast_is_all_depthwise_separable_and_cheaper():
    fast = deblurgan.build("generator", "fast")
    dense3x3 = [m for m in fast.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
                and m.groups == 1]
    assert dense3x3 == []
    x = torch.rand(1, 3, 64, 64)
    assert count_flops_per_pixel(fast, x) < count_flops_per_pixel(deblurgan.build("generator", "full"), x) / 5


def test_double_scale_discriminator_outputs():
    disc = deblurgan.build("discriminator", "fast")
    out = disc(torch.rand(2, 3, 96, 128) * 2 - 1)
    assert set(out) == {"patch", "full"}
    assert out["patch"].shape[:2] == (2, 1) and out["patch"].shape[-1] > 4
    assert out["full"].shape == (2, 1)


@pytest.mark.parametrize("net", ["generator", "discriminator"])
def test_state_dict_roundtrip(net, roundtrip):
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    roundtrip(deblurgan.build(net, "fast"), deblurgan.build(net, "fast"), x)


@pytest.mark.parametrize("config", ["fast", "quality"])
def test_untrained_generator_is_the_identity(config):
    """Zero-initialised last layer: training starts from the input, not from a random residual."""
    net = deblurgan.build("generator", config, unit_range=True).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(net(x), x, atol=1e-6, rtol=0)


def test_full_skip_starts_as_the_generator_without_it():
    """Weights trained without the full-resolution skip load into a generator with it, same output."""
    torch.manual_seed(0)
    plain = deblurgan.build("generator", "fast", unit_range=True)
    for m in plain.modules():  # a "trained" generator: non-zero everywhere, also the last layer
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.05)
    skip = deblurgan.build("generator", "fast", unit_range=True, full_skip=16)
    missing, unexpected = skip.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all(k.startswith("full_lateral.") for k in missing)
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        torch.testing.assert_close(skip.eval()(x), plain.eval()(x))

