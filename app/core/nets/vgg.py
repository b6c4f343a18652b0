"""VGG16 ``features`` stack with weights from the HED edge detector, for perceptual losses and priors.

The weights come from ``../shared/datasets/scripts/get_vgg16_hed.sh`` (VGG16 fine-tuned for HED on BSDS500,
MIT licence): a Keras h5 file with HWIO kernels, groups ``block{b}/layers/conv2d[_i]/vars/{0,1}`` named
``block{b}_conv{i}``. Input convention: BGR, 0-255, minus the Caffe mean. :class:`VGGFeatures` takes RGB in
``input_range`` and converts internally. ``h5py`` is needed only to read that file (training extra).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CAFFE_MEAN_BGR", "VGG16_CONVS", "VGGFeatures", "default_weights_path", "load_hed_vgg16"]

#: ``(name, in_channels, out_channels)`` of the 13 VGG16 convs; a 2x2 max-pool ends blocks 1-4.
VGG16_CONVS: tuple[tuple[str, int, int], ...] = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
)
CAFFE_MEAN_BGR = (104.00698793, 116.66876762, 122.67891434)
_NAME = re.compile(r"block(\d)_conv(\d)$")


def default_weights_path() -> Path:
    """``$PHOTORESTORE_VGG_WEIGHTS`` or ``~/.cache/photorestore/hed_bsds500.weights.h5``."""
    env = os.environ.get("PHOTORESTORE_VGG_WEIGHTS")
    return Path(env) if env else Path.home() / ".cache" / "photorestore" / "hed_bsds500.weights.h5"


def load_hed_vgg16(path: str | os.PathLike | None = None) -> dict[str, torch.Tensor]:
    """Read the 13 VGG16 conv kernels from the HED Keras h5 file.

    Args:
        path: h5 file; defaults to :func:`default_weights_path`.

    Returns:
        State dict ``{"conv1_1.weight": (64, 3, 3, 3), "conv1_1.bias": (64,), ...}`` in PyTorch OIHW layout.

    Raises:
        FileNotFoundError: the file is missing (with the command that fetches it).
        ValueError: the file does not hold exactly the expected 13 kernels.
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise FileNotFoundError(f"VGG16/HED weights not found at {path}; fetch them with "
                                f"`bash ../shared/datasets/scripts/get_vgg16_hed.sh {path}`")
    import h5py  # training-only dependency, imported lazily

    state: dict[str, torch.Tensor] = {}
    with h5py.File(path, "r") as f:
        def visit(_: str, obj: object) -> None:
            if not isinstance(obj, h5py.Group):
                return
            match = _NAME.match(str(obj.attrs.get("name", "")))
            if match and "0" in obj and "1" in obj:
                name = f"conv{match.group(1)}_{match.group(2)}"
                # Keras stores (kh, kw, in, out) for cross-correlation, like torch: transpose, don't flip.
                state[f"{name}.weight"] = torch.from_numpy(obj["0"][()]).permute(3, 2, 0, 1).contiguous()
                state[f"{name}.bias"] = torch.from_numpy(obj["1"][()])

        f.visititems(visit)
    for name, cin, cout in VGG16_CONVS:
        w = state.get(f"{name}.weight")
        if w is None or tuple(w.shape) != (cout, cin, 3, 3) or tuple(state[f"{name}.bias"].shape) != (cout,):
            raise ValueError(f"{path}: {name} missing or not shaped ({cout}, {cin}, 3, 3)")
    if len(state) != 2 * len(VGG16_CONVS):
        raise ValueError(f"{path}: expected {len(VGG16_CONVS)} conv kernels, found {len(state) // 2}")
    return state


def _plan() -> list[tuple[str, str]]:
    """Forward order as ``(op, output name)``: conv, relu, and a max-pool after blocks 1-4."""
    plan: list[tuple[str, str]] = []
    for i, (name, _, _) in enumerate(VGG16_CONVS):
        plan += [("conv", name), ("relu", name.replace("conv", "relu", 1))]
        block = name[4]
        is_last = i + 1 == len(VGG16_CONVS) or VGG16_CONVS[i + 1][0][4] != block
        if is_last and block != "5":
            plan.append(("pool", f"pool{block}"))
    return plan


class VGGFeatures(nn.Module):
    """Frozen VGG16 feature extractor returning named intermediate activations.

    Only the layers up to the deepest requested one are built and run.

    Args:
        layers: names to return: ``convN_M`` (before ReLU, as DeblurGAN's "conv3_3" perceptual loss),
            ``reluN_M`` (after ReLU) or ``poolN`` (after the max-pool that ends block N, N <= 4).
        weights: HED h5 file to load, or ``None`` for random initialisation (tests, shape checks).
        input_range: value range of the RGB input, ``(0, 1)`` or ``(-1, 1)`` (DeblurGAN's generator range).
        requires_grad: train the VGG weights too (default frozen; gradients still flow to the input).

    Shape:
        - Input: ``(B, 3, H, W)`` RGB in ``input_range``.
        - Output: ``{name: (B, C, H / 2**k, W / 2**k)}`` for each requested layer (``k`` pools before it).
    """

    def __init__(self, *, layers: Sequence[str] = ("conv3_3",), weights: str | os.PathLike | None = None,
                 input_range: tuple[float, float] = (0.0, 1.0), requires_grad: bool = False) -> None:
        super().__init__()
        plan = _plan()
        names = [out for _, out in plan]
        unknown = [n for n in layers if n not in names]
        if unknown or not layers:
            raise ValueError(f"unknown VGG16 layers {unknown}; choose from {names}")
        self.layers = tuple(layers)
        self._plan = plan[: max(names.index(n) for n in layers) + 1]
        convs = {n for op, n in self._plan if op == "conv"}
        self.convs = nn.ModuleDict({n: nn.Conv2d(i, o, 3, padding=1)
                                    for n, i, o in VGG16_CONVS if n in convs})
        lo, hi = input_range
        self.input_range = (float(lo), float(hi))
        self.register_buffer("mean_bgr", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1), persistent=False)
        if weights is not None:
            state = load_hed_vgg16(weights)
            self.convs.load_state_dict({k: v for k, v in state.items() if k.split(".")[0] in self.convs})
        self.requires_grad_(requires_grad)

    def forward(self, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected (B, 3, H, W) RGB, got {tuple(rgb.shape)}")
        lo, hi = self.input_range
        x = (rgb - lo) * (255.0 / (hi - lo))
        x = x.flip(1) - self.mean_bgr.to(x.dtype)
        out = {}
        for op, name in self._plan:
            if op == "conv":
                x = self.convs[name](x)
            elif op == "relu":
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2)
            if name in self.layers:
                out[name] = x
        return out
