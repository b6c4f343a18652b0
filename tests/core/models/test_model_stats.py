"""Parameter and FLOP counting for model cards."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.core.models.stats import count_flops_per_pixel, count_params


def test_count_params_counts_shared_weights_once():
    conv = nn.Conv2d(3, 8, 3)
    assert count_params(conv) == 3 * 8 * 9 + 8
    tied = nn.Sequential(conv, nn.ReLU(), conv)
    assert count_params(tied) == 224
    conv.bias.requires_grad_(False)
    assert count_params(conv, trainable_only=True) == 216


def test_conv_flops_per_pixel():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))
    assert count_flops_per_pixel(net, (1, 3, 16, 16)) == pytest.approx(2 * (8 * 3 * 9 + 3 * 8))


def test_strided_grouped_transposed_and_linear():
    down = nn.Conv2d(4, 8, 2, stride=2, groups=2)  # output 8x8 from 16x16
    up = nn.ConvTranspose2d(8, 4, 2, stride=2)  # back to 16x16
    net = nn.Sequential(down, up)
    # conv: outputs x in/groups x k;  transpose: inputs x out x k
    macs = 8 * 8 * 8 * (4 // 2) * 4 + (8 * 8 * 8) * 4 * 4
    assert count_flops_per_pixel(net, (1, 4, 16, 16)) == pytest.approx(2 * macs / 256)

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 5)

        def forward(self, x):
            return (self.fc(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), x)  # tuple output: first counts

    assert count_flops_per_pixel(Head(), (2, 3, 4, 4)) == pytest.approx(2 * 15)


def test_counting_leaves_the_module_as_it_was():
    net = nn.Conv2d(1, 1, 3).train()
    count_flops_per_pixel(net, (1, 1, 8, 8))
    assert net.training and not net._forward_hooks
    assert all(p.grad is None for p in net.parameters())
    assert torch.is_grad_enabled()
