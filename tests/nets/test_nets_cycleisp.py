import pytest
import torch
from torch import nn

from app.core.nets import cycleisp
from app.core.nets.cycleisp_isp import mosaic_rggb
from app.core.nets.flops import count_flops_per_pixel


def _inputs(net: str, h: int, w: int, noise_channels: int = 4) -> tuple[torch.Tensor, ...]:
    """Inputs for an image of ``h x w`` sensor/output pixels."""
    if net == "srgb_denoiser":
        return (torch.rand(1, 3, h, w),)
    if net == "raw_denoiser":
        return torch.rand(1, 4, h // 2, w // 2), torch.rand(1, noise_channels, h // 2, w // 2) * 0.01
    if net == "rgb2raw":
        return (torch.rand(1, 3, h, w),)
    return torch.rand(1, 4, h // 2, w // 2), torch.rand(1, 3, h, w)


EXPECTED_SHAPE = {"srgb_denoiser": (1, 3, 1, 1), "raw_denoiser": (1, 4, 2, 2), "rgb2raw": (1, 4, 2, 2),
                  "raw2rgb": (1, 3, 1, 1)}  # per-dimension divisors of (h, w) applied below


@pytest.mark.parametrize("config", ["fast", "full"])
@pytest.mark.parametrize("net", ["srgb_denoiser", "raw_denoiser", "rgb2raw", "raw2rgb"])
def test_output_shapes(net, config):
    model = cycleisp.build(net, config).eval()
    h, w = (12, 20) if config == "fast" else (8, 12)  # full nets are 40x the FLOPs; keep them tiny
    with torch.no_grad():
        y = model(*_inputs(net, h, w))
    b, c, dh, dw = EXPECTED_SHAPE[net]
    assert y.shape == (b, c, h // dh, w // dw)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("net", ["srgb_denoiser", "raw_denoiser"])
def test_denoisers_accept_odd_sizes(net):
    model = cycleisp.build(net, "fast").eval()
    with torch.no_grad():
        if net == "srgb_denoiser":
            y = model(torch.rand(1, 3, 17, 23))
            assert y.shape == (1, 3, 17, 23)
        else:
            y = model(torch.rand(1, 4, 9, 13), torch.rand(1, 4, 9, 13))
            assert y.shape == (1, 4, 9, 13)


@pytest.mark.parametrize("config", ["fast", "full"])
@pytest.mark.parametrize("net", ["srgb_denoiser", "raw_denoiser"])
def test_zero_tail_gives_identity(net, config):
    """The global residual: with the last conv zeroed the denoiser returns its (image) input."""
    model = cycleisp.build(net, config).eval()
    nn.init.zeros_(model.tail.weight)
    nn.init.zeros_(model.tail.bias)
    inputs = _inputs(net, 8, 12)
    with torch.no_grad():
        assert torch.equal(model(*inputs), inputs[0])


def test_raw_denoiser_single_channel_variance_and_shape_checks():
    model = cycleisp.build("raw_denoiser", "fast", noise_channels=1).eval()
    raw, var = _inputs("raw_denoiser", 16, 16, noise_channels=1)
    assert model(raw, var).shape == raw.shape
    with pytest.raises(ValueError, match="variance"):
        model(raw, torch.rand(1, 4, 8, 8))
    # Single-tensor form for the registry / tiler: cat([raw, variance], 1).
    with torch.no_grad():
        torch.testing.assert_close(model(torch.cat([raw, var], 1)), model(raw, var))
    with pytest.raises(ValueError):
        model(raw)
    with pytest.raises(ValueError):
        cycleisp.build("raw_denoiser", "fast", noise_channels=3)


@pytest.mark.parametrize("net", ["srgb_denoiser", "raw_denoiser", "rgb2raw", "raw2rgb"])
def test_state_dict_roundtrip(net, roundtrip):
    inputs = _inputs(net, 8, 8)
    roundtrip(cycleisp.build(net, "fast"), cycleisp.build(net, "fast"), *inputs)


def test_fast_flop_budgets():
    srgb = count_flops_per_pixel(cycleisp.build("srgb_denoiser", "fast"), torch.rand(1, 3, 64, 64))
    assert 100e3 < srgb <= 150e3
    raw, var = _inputs("raw_denoiser", 64, 64)
    per_sensor_pixel = count_flops_per_pixel(cycleisp.build("raw_denoiser", "fast"), raw, var, pixels=64 * 64)
    assert per_sensor_pixel <= 150e3


def test_full_is_the_paper_configuration():
    model = cycleisp.build("srgb_denoiser", "full")
    rrgs = [m for m in model.body if m.__class__.__name__ == "RRG"]
    assert len(rrgs) == 4 and all(len(r.body) == 8 + 1 for r in rrgs)
    assert model.tail.in_channels == 64


def test_mosaic_and_raw2rgb_reference_check():
    rgb = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    packed = mosaic_rggb(rgb)
    assert packed.shape == (2, 4, 2, 2)
    assert packed[0, 0, 0, 0] == rgb[0, 0, 0, 0] and packed[0, 1, 0, 0] == rgb[0, 1, 0, 1]
    assert packed[0, 2, 0, 0] == rgb[0, 1, 1, 0] and packed[0, 3, 0, 0] == rgb[0, 2, 1, 1]
    with pytest.raises(ValueError):
        mosaic_rggb(torch.rand(1, 3, 5, 4))
    model = cycleisp.build("raw2rgb", "fast")
    with pytest.raises(ValueError, match="reference"):
        model(torch.rand(1, 4, 8, 8), torch.rand(1, 3, 8, 8))


def test_build_rejects_unknown_names():
    with pytest.raises(KeyError):
        cycleisp.build("nope")
    with pytest.raises(KeyError):
        cycleisp.build("srgb_denoiser", "huge")
