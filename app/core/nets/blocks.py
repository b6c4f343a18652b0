"""Building blocks shared by the network families.

Everything here is a plain ``nn.Module`` or function over ``(B, C, H, W)`` float tensors. Blocks keep the
spatial size (``same`` padding) unless they take a ``stride``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from app.core.color import pad_amounts

__all__ = [
    "RRG",
    "ChannelAttention",
    "ConvNormAct",
    "DualAttentionBlock",
    "DepthwiseSeparableConv",
    "InvertedResidual",
    "SpatialAttention",
    "conv",
    "crop_to",
    "fold_batchnorm",
    "make_norm",
    "rrg_stack",
    "pad_to_multiple",
]


def conv(in_ch: int, out_ch: int, kernel_size: int = 3, *, stride: int = 1, groups: int = 1,
         bias: bool = True) -> nn.Conv2d:
    """Convolution with ``same`` padding for odd kernels (spatial size divided by ``stride``)."""
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups,
                     bias=bias)


def make_norm(kind: str, channels: int) -> nn.Module:
    """Normalisation layer by name: ``"batch"``, ``"instance"`` or ``"none"``.

    Batch norm is the default for inference nets: it folds into the convolution and, unlike instance
    norm, does not make the output depend on the statistics of whichever tile is being processed.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; expected 'batch', 'instance' or 'none'")


class ConvNormAct(nn.Sequential):
    """``conv -> norm -> activation``; bias is dropped when a norm follows (it would be cancelled)."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, *, stride: int = 1, groups: int = 1,
                 norm: str = "batch", act: type[nn.Module] | None = nn.ReLU6) -> None:
        layers: list[nn.Module] = [conv(in_ch, out_ch, kernel_size, stride=stride, groups=groups,
                                        bias=norm == "none"), make_norm(norm, out_ch)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class DepthwiseSeparableConv(nn.Sequential):
    """Depthwise ``k x k`` conv then pointwise ``1 x 1`` conv (MobileNet v1 unit).

    Costs ``k*k*C_in + C_in*C_out`` MACs per output pixel instead of ``k*k*C_in*C_out``.

    Shape:
        - Input: ``(B, C_in, H, W)``
        - Output: ``(B, C_out, ceil(H / stride), ceil(W / stride))``
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, *, stride: int = 1,
                 norm: str = "batch", act: type[nn.Module] | None = nn.ReLU6,
                 act_last: bool = True) -> None:
        super().__init__(
            ConvNormAct(in_ch, in_ch, kernel_size, stride=stride, groups=in_ch, norm=norm, act=act),
            ConvNormAct(in_ch, out_ch, 1, norm=norm, act=act if act_last else None),
        )


class InvertedResidual(nn.Module):
    """MobileNetV2 inverted residual: 1x1 expand -> 3x3 depthwise -> 1x1 linear projection.

    The skip connection is used when the block keeps both resolution and width.

    Shape:
        - Input: ``(B, C_in, H, W)``
        - Output: ``(B, C_out, ceil(H / stride), ceil(W / stride))``
    """

    def __init__(self, in_ch: int, out_ch: int, *, stride: int = 1, expand_ratio: float = 6,
                 norm: str = "batch") -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = int(round(in_ch * expand_ratio))
        self.use_skip = stride == 1 and in_ch == out_ch
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvNormAct(in_ch, hidden, 1, norm=norm))
        layers += [ConvNormAct(hidden, hidden, 3, stride=stride, groups=hidden, norm=norm),
                   ConvNormAct(hidden, out_ch, 1, norm=norm, act=None)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_skip else y


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation: global average pool -> 1x1 down -> ReLU -> 1x1 up -> sigmoid gate.

    The pool makes the gate depend on the whole input, so a tiled run sees per-tile statistics; overlap
    blending hides the small differences this causes.

    Shape:
        - Input / Output: ``(B, C, H, W)``
    """

    def __init__(self, channels: int, *, reduction: int = 8) -> None:
        super().__init__()
        mid = max(channels // reduction, 4)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, mid, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(mid, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class SpatialAttention(nn.Module):
    """CBAM-style spatial gate: channel-wise max and mean -> ``k x k`` conv -> sigmoid.

    Shape:
        - Input / Output: ``(B, C, H, W)``
    """

    def __init__(self, *, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv = conv(2, 1, kernel_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class DualAttentionBlock(nn.Module):
    """CycleISP dual attention block (DAB).

    ``conv -> PReLU -> conv``, then spatial and channel attention in parallel on that result, concatenated,
    fused by a 1x1 conv and added to the input. Each block owns its PReLU (the reference code shares one
    instance across blocks, which ties weights and breaks safetensors export of shared tensors).

    Shape:
        - Input / Output: ``(B, C, H, W)``
    """

    def __init__(self, channels: int, *, reduction: int = 8, sa_kernel: int = 5) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels), nn.PReLU(channels), conv(channels, channels))
        self.sa = SpatialAttention(kernel_size=sa_kernel)
        self.ca = ChannelAttention(channels, reduction=reduction)
        self.fuse = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.body(x)
        return x + self.fuse(torch.cat([self.sa(res), self.ca(res)], dim=1))


def rrg_stack(channels: int, *, num_rrg: int, num_dab: int, reduction: int = 8) -> list[nn.Module]:
    """``num_rrg`` recursive residual groups of ``num_dab`` dual attention blocks each."""
    return [RRG(channels, num_dab=num_dab, reduction=reduction) for _ in range(num_rrg)]


class RRG(nn.Module):
    """Recursive residual group: ``num_dab`` dual attention blocks and a conv, wrapped in a residual.

    Shape:
        - Input / Output: ``(B, C, H, W)``
    """

    def __init__(self, channels: int, *, num_dab: int, reduction: int = 8) -> None:
        super().__init__()
        dabs = [DualAttentionBlock(channels, reduction=reduction) for _ in range(num_dab)]
        self.body = nn.Sequential(*dabs, conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def pad_to_multiple(x: torch.Tensor, multiple: int, *,
                    mode: str = "reflect") -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom/right of ``x`` so H and W are multiples of ``multiple``.

    Args:
        x: ``(B, C, H, W)`` tensor.
        multiple: required divisor of the padded height and width.
        mode: ``F.pad`` mode; reflection avoids the dark border a zero pad would teach the net to see.
            Falls back to ``"replicate"`` when the image is too small to reflect.

    Returns:
        The padded tensor and the original ``(H, W)`` for :func:`crop_to`.
    """
    h, w = x.shape[-2:]
    ph, pw = pad_amounts(h, w, multiple)
    if multiple == 1:
        return x, (h, w)
    # No "already a multiple" shortcut: a traced ONNX export must keep the pad for every tile size (the
    # traced size had none). Padding by zero is one cheap copy.
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop the top-left ``size = (H, W)`` of ``x``; undoes :func:`pad_to_multiple`."""
    return x[..., : size[0], : size[1]]


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode ``BatchNorm2d`` that directly follows a conv inside a :class:`ConvNormAct`.

    Saves one full pass over each feature map at inference. Call after loading weights: the folded model
    has a different state dict (the convs gain biases, the norms become ``Identity``).

    Args:
        model: the network, in eval mode.

    Returns:
        ``model``, modified in place.
    """
    if model.training:
        raise RuntimeError("fold_batchnorm needs model.eval(): training-mode batch norm cannot be folded")
    for module in model.modules():
        if isinstance(module, ConvNormAct) and isinstance(module[1], nn.BatchNorm2d):
            module[0] = fuse_conv_bn_eval(module[0], module[1])
            module[1] = nn.Identity()
    return model
