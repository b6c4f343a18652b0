"""Perceptual (VGG feature) loss, as in DeblurGAN-v2: MSE between VGG16 ``conv3_3`` activations.

The VGG16 weights are the HED ones (``../shared/datasets/scripts/get_vgg16_hed.sh``, MIT), read by
:mod:`app.core.nets.vgg`. That network takes Caffe-style input (BGR, 0-255 minus the mean) while the
paper's torchvision VGG takes ImageNet-standardised input (divided by std ~0.226 on a 0-1 scale), so our
activations are ~255 x 0.226 = 57.6 times larger (exactly so without biases). Dividing the features by
``feature_scale`` brings the loss back to the paper's scale, which keeps its weight (0.006) meaningful.

The HED file is 59 MB, too big to travel to a lent GPU next to the data (64 MiB in all); the loss only needs
conv1_1..conv3_3 (7 MB), which ``python -m app.train.perceptual --pack .datapack/vgg16_conv3.safetensors``
extracts. ``$PHOTORESTORE_VGG_WEIGHTS`` (or ``weights``) may name either file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from app.core.nets.vgg import VGGFeatures, default_weights_path, load_hed_vgg16

#: Caffe-range / ImageNet-standardised input ratio (255 x mean ImageNet std).
PAPER_FEATURE_SCALE = 255.0 * 0.226


def read_vgg_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """VGG16 conv state dict from the HED h5 file or from a ``.safetensors`` extract of it (:func:`main`).

    Raises:
        FileNotFoundError: no such file (the message names the command that fetches the HED weights).
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        return load_hed_vgg16(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG16 extract not found at {path}; make it with "
                                f"`python -m app.train.perceptual --pack {path}`")
    import safetensors.torch

    return safetensors.torch.load_file(str(path))


class PerceptualLoss(nn.Module):
    """``mean((phi(pred) - phi(target))^2) / feature_scale^2`` with ``phi`` a frozen VGG16 layer.

    Args:
        layer: VGG16 layer name (``conv3_3`` = before its ReLU, as in DeblurGAN-v2).
        weights: HED h5 file (default: ``$PHOTORESTORE_VGG_WEIGHTS`` or the user cache); a missing file
            raises ``FileNotFoundError`` naming the command that fetches it.
        feature_scale: divisor of the activations (see the module doc).

    Shape:
        ``pred``, ``target``: ``(B, 3, H, W)`` RGB in [0, 1]; returns a scalar.
    """

    def __init__(self, layer: str = "conv3_3", weights: str | os.PathLike | None = None,
                 feature_scale: float = PAPER_FEATURE_SCALE) -> None:
        super().__init__()
        self.layer = layer
        self.scale = float(feature_scale)
        self.vgg = VGGFeatures(layers=(layer,), input_range=(0.0, 1.0))
        state = read_vgg_weights(weights or default_weights_path())
        self.vgg.convs.load_state_dict({k: v for k, v in state.items() if k.split(".")[0] in self.vgg.convs})
        self.vgg.eval()

    def train(self, mode: bool = True) -> PerceptualLoss:
        # The feature net is frozen and has no norm layers; keep it in eval mode whatever the runner does.
        return super().train(False)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            ref = self.vgg(target)[self.layer]
        feat = self.vgg(pred)[self.layer]
        return F.mse_loss(feat.float() / self.scale, ref.float() / self.scale)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.train.perceptual",
                                description="Extract the VGG16 convs a perceptual loss needs into a small file.")
    p.add_argument("--pack", type=Path, required=True, help="output .safetensors file")
    p.add_argument("--layer", default="conv3_3", help="deepest layer kept (default conv3_3)")
    p.add_argument("--weights", type=Path, help="HED h5 file (default: $PHOTORESTORE_VGG_WEIGHTS or the cache)")
    args = p.parse_args(argv)
    import safetensors.torch

    keep = VGGFeatures(layers=(args.layer,)).convs  # exactly the convs a loss on this layer builds
    state = load_hed_vgg16(args.weights or default_weights_path())
    state = {k: v for k, v in state.items() if k.split(".")[0] in keep}
    args.pack.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file(state, str(args.pack), metadata={"source": "HED VGG16 (MIT), get_vgg16_hed.sh"})
    print(f"{len(state) // 2} convs, {args.pack.stat().st_size / 2**20:.1f} MiB in {args.pack}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
