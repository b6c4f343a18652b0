import torch
from torch import nn

from app.core.models.stats import count_flops_per_pixel as stats_flops_per_pixel
from app.core.nets import cycleisp, deblurgan
from app.core.nets.flops import count_flops, count_flops_per_pixel


def test_conv_flops_match_hand_count():
    x = torch.zeros(2, 3, 10, 12)
    assert count_flops(nn.Conv2d(3, 8, 3, padding=1), x) == 2 * 2 * (9 * 3 * 8) * 10 * 12
    # Depthwise: one input channel per output channel.
    dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
    assert count_flops(dw, torch.zeros(1, 8, 5, 5)) == 2 * 9 * 8 * 25
    # Stride 2 halves each output dimension.
    assert count_flops(nn.Conv2d(4, 4, 3, stride=2, padding=1), torch.zeros(1, 4, 8, 8)) == 2 * 36 * 4 * 16


def test_transpose_linear_and_per_pixel():
    up = nn.ConvTranspose2d(4, 2, 2, stride=2)
    assert count_flops(up, torch.zeros(1, 4, 3, 3)) == 2 * 9 * (4 * 4 * 2)
    assert count_flops(nn.Linear(5, 7), torch.zeros(3, 5)) == 2 * 3 * 5 * 7
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU(), nn.Conv2d(2, 1, 1))
    x = torch.zeros(2, 1, 4, 4)
    assert count_flops_per_pixel(net, x) == 2 * (2 + 2)
    assert count_flops_per_pixel(net, x, pixels=64) == 2 * (2 + 2) * 16 / 64


def test_agrees_with_model_stats_counter():
    """Same convention as app.core.models.stats (which takes a single zero input)."""
    for model, shape in ((cycleisp.build("srgb_denoiser", "fast"), (1, 3, 32, 32)),
                         (cycleisp.build("raw_denoiser", "fast"), (1, 8, 16, 16)),
                         (deblurgan.build("generator", "fast"), (1, 3, 64, 64))):
        model.eval()
        assert count_flops_per_pixel(model, torch.zeros(shape)) == stats_flops_per_pixel(model, shape)
