import pytest
import torch
from torch import nn

from app.core.nets.blocks import (
    RRG,
    ChannelAttention,
    ConvNormAct,
    DepthwiseSeparableConv,
    DualAttentionBlock,
    InvertedResidual,
    SpatialAttention,
    crop_to,
    fold_batchnorm,
    pad_to_multiple,
)


def test_attention_gates_scale_input_by_unit_interval():
    x = torch.rand(2, 8, 9, 7) + 0.1
    for gate in (ChannelAttention(8, reduction=4), SpatialAttention(kernel_size=5)):
        y = gate(x)
        assert y.shape == x.shape
        ratio = y / x
        assert bool(((ratio > 0) & (ratio < 1)).all())


def test_dab_and_rrg_keep_shape_and_have_residual():
    x = torch.randn(1, 16, 11, 13)
    dab = DualAttentionBlock(16, reduction=4)
    assert dab(x).shape == x.shape
    rrg = RRG(16, num_dab=2, reduction=4)
    assert rrg(x).shape == x.shape
    # The group's last conv feeds the residual: zeroing it leaves the identity.
    nn.init.zeros_(rrg.body[-1].weight)
    nn.init.zeros_(rrg.body[-1].bias)
    assert torch.equal(rrg(x), x)


@pytest.mark.parametrize("stride", [1, 2])
def test_mobile_blocks_shapes(stride):
    x = torch.randn(2, 16, 15, 10)
    expected = (2, 24, (15 + stride - 1) // stride, (10 + stride - 1) // stride)
    assert DepthwiseSeparableConv(16, 24, stride=stride)(x).shape == expected
    assert InvertedResidual(16, 24, stride=stride, expand_ratio=6)(x).shape == expected


def test_inverted_residual_skip_only_when_shape_kept():
    assert InvertedResidual(16, 16, stride=1).use_skip
    assert not InvertedResidual(16, 16, stride=2).use_skip
    assert not InvertedResidual(16, 24, stride=1).use_skip


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (32, 33), (64, 64)])
def test_pad_crop_roundtrip(size):
    x = torch.randn(1, 3, *size)
    padded, orig = pad_to_multiple(x, 32)
    assert padded.shape[-2] % 32 == 0 and padded.shape[-1] % 32 == 0
    assert orig == size
    assert torch.equal(crop_to(padded, orig), x)


def test_fold_batchnorm_preserves_output():
    net = nn.Sequential(ConvNormAct(3, 8, 3), InvertedResidual(8, 8))
    net.train()
    for _ in range(3):  # give the running statistics non-trivial values
        net(torch.randn(4, 3, 8, 8) * 3 + 1)
    net.eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        before = net(x)
        fold_batchnorm(net)
        after = net(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError):
        fold_batchnorm(nn.Sequential(ConvNormAct(3, 3)).train())
