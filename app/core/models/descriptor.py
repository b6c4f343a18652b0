"""What the rest of the app needs to know about a model to run it correctly (spandrel's idea).

Ops never repeat "pad to a multiple of 16, clamp to [0, 1], is tiling safe?" logic: they read
it from the descriptor, and :class:`app.core.models.registry.LoadedModel` applies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Input encodings a model can expect (its input tensor is ``(N, in_channels, H, W)``):
#: ``bayer4`` -- packed RGGB mosaic (4 channels, half resolution), linear, black level removed, [0, 1],
#: followed by ``cond_channels`` conditioning maps (the RAW denoiser's per-plane noise variance);
#: ``linear_rgb`` -- scene-linear sRGB primaries; ``srgb`` -- display-referred sRGB.
INPUT_SPACES = ("bayer4", "linear_rgb", "srgb")

#: Model ids are TOML bare keys and file-name stems: lower-case letters, digits, "_" and "-".
MODEL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def check_model_id(model_id: str) -> str:
    """Return ``model_id`` or raise ``ValueError`` if it is not a valid id."""
    if not isinstance(model_id, str) or not MODEL_ID_RE.match(model_id):
        raise ValueError(f"invalid model id {model_id!r}: use lower-case letters, digits, '_' and '-'")
    return model_id


@dataclass(frozen=True)
class ModelDescriptor:
    """Static facts about a registered model.

    Attributes:
        id: unique model id (``"cycleisp_raw_denoise"``); also the manifest key.
        arch: architecture name (the builder's family, e.g. ``"cycleisp"``); the manifest's
            ``architecture`` must match it.
        config: keyword arguments for the builder (the manifest's ``config`` overrides it, as
            training may change widths).
        input_space: one of :data:`INPUT_SPACES`.
        in_channels: ``C`` of the input ``(N, C, H, W)`` (``4 + cond_channels`` for ``bayer4``).
        cond_channels: trailing input channels that are conditioning maps, not image data (e.g. the
            RAW denoiser's 4-plane noise variance: 8 input channels = 4 RGGB planes + 4 variances).
            They are tiled with the image; an op builds them, :class:`LoadedModel` checks the count.
        out_channels: ``C'`` of the output ``(N, C', H*scale, W*scale)``.
        value_range: ``(low, high)`` the output is clamped to; None leaves it unclamped
            (e.g. HDR linear output).
        size_multiple: H and W the network accepts must be multiples of this (UNet depth).
        scale: integer output/input size ratio (2 for packed RAW -> full-resolution RGB).
        overlap: tile overlap in input pixels; a receptive-field radius up to ``overlap // 4``
            is reproduced exactly, larger ones are blended smoothly.
        tile_safe: False for models with global operations (e.g. image-wide pooling or
            statistics) whose output would change with tiling; they run on the whole image.
        half_ok: float16 on CUDA is numerically fine (validated against float32).
        bytes_per_pixel: peak working memory per input pixel at float32, if measured;
            the tile size is chosen from it (None: a conservative default).
        cpu_tile: tile edge on the CPU when the user sets none (measured fastest for the family;
            None: chosen from free memory like any device).
        runtime_tile: the same when a fast CPU runtime (OpenVINO, ONNX Runtime) runs the model's ONNX
            export (None: ``cpu_tile``). The runtimes manage their own memory, so torch's reasons for small
            CPU tiles do not hold for them, and bigger tiles recompute less overlap.
        tile_cap: largest automatically chosen tile edge (None: the device's default cap); nets with a
            wide receptive field want big tiles.
        min_tile: smallest tile edge, also for a user's tile size (None: twice the overlap).
        The tile policy lives here, beside the net's other facts: ops never choose tiles
        (:meth:`tile_for` is applied by :meth:`app.core.models.registry.LoadedModel.run_tensor`).
        description: one line for ``photorestore models`` and the GUI.
    """

    id: str
    arch: str
    config: dict[str, Any] = field(default_factory=dict)
    input_space: str = "srgb"
    in_channels: int = 3
    out_channels: int = 3
    cond_channels: int = 0
    value_range: tuple[float, float] | None = (0.0, 1.0)
    size_multiple: int = 1
    scale: int = 1
    overlap: int = 16
    tile_safe: bool = True
    half_ok: bool = True
    bytes_per_pixel: int | None = None
    cpu_tile: int | None = None
    runtime_tile: int | None = None
    tile_cap: int | None = None
    min_tile: int | None = None
    description: str = ""

    def tile_for(self, device_type: str, requested: int | None, free_bytes: int | None = None, *,
                 runtime: bool = False) -> int | None:
        """The tile edge to run with on a ``device_type`` device, given the user's ``requested`` edge.

        ``runtime``: a fast CPU runtime runs the model (``runtime_tile`` applies). None means "let the
        tiler choose from free memory" (its default cap).
        """
        tile = requested
        if tile is None and device_type == "cpu":
            tile = (self.runtime_tile if runtime else None) or self.cpu_tile
        if tile is None and self.tile_cap:
            from app.core.infer.memory import auto_tile_size

            tile = auto_tile_size(device_type, bytes_per_pixel=self.bytes_per_pixel, multiple=self.size_multiple,
                                  min_tile=2 * self.overlap, free_bytes=free_bytes, cap=self.tile_cap)
        if tile is not None and self.min_tile:
            tile = max(tile, self.min_tile)
        return tile

    def __post_init__(self) -> None:
        check_model_id(self.id)
        if not self.arch:
            raise ValueError(f"model {self.id}: arch must be set")
        if self.input_space not in INPUT_SPACES:
            raise ValueError(f"model {self.id}: input_space {self.input_space!r} is not one of "
                             f"{', '.join(INPUT_SPACES)}")
        for name in ("in_channels", "out_channels", "size_multiple", "scale"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"model {self.id}: {name} must be a positive int, got {value!r}")
        if not isinstance(self.overlap, int) or self.overlap < 0:
            raise ValueError(f"model {self.id}: overlap must be a non-negative int, got {self.overlap!r}")
        if not isinstance(self.cond_channels, int) or not 0 <= self.cond_channels < self.in_channels:
            raise ValueError(f"model {self.id}: cond_channels must be an int in [0, in_channels), "
                             f"got {self.cond_channels!r}")
        if self.input_space == "bayer4" and self.in_channels != 4 + self.cond_channels:
            raise ValueError(f"model {self.id}: bayer4 input has 4 channels (+ {self.cond_channels} "
                             f"conditioning), not {self.in_channels}")
        if self.value_range is not None:
            low, high = self.value_range
            if not low < high:
                raise ValueError(f"model {self.id}: value_range {self.value_range} is empty")
            object.__setattr__(self, "value_range", (float(low), float(high)))
        # Own a copy so a caller mutating its dict cannot change a registered model.
        object.__setattr__(self, "config", dict(self.config))

    def __hash__(self) -> int:  # config is a dict; the id identifies a descriptor
        return hash((self.id, self.arch))
