"""The image type every op consumes and produces.

Pixels are float32 ``(H, W, C)`` arrays. Colour-managed data is always in the working space
(sRGB primaries); ``space`` says how the values are encoded:

* ``SRGB``   -- display-referred, sRGB transfer curve, nominally [0, 1] (C=3).
* ``LINEAR`` -- scene-linear sRGB primaries, [0, 1] and above (C=3).
* ``BAYER``  -- a RAW mosaic normalised to RGGB and to [0, 1] between black and white level
  (C=1, ``H`` and ``W`` even); ``raw`` carries what is needed to develop it.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class ColorSpace(str, enum.Enum):
    SRGB = "srgb"
    LINEAR = "linear"
    BAYER = "bayer"


@dataclass
class RawInfo:
    """What a RAW decode knows beyond the mosaic (filled by ``app.core.io.raw``)."""

    path: str
    cfa_pattern: str  # layout of the sensor as read, e.g. "RGGB", "GRBG" ("RGGB" after normalisation offsets)
    crop_offset: tuple[int, int]  # (dy, dx) applied to the sensor mosaic to make it RGGB
    black_level: tuple[float, float, float, float]  # per RGGB channel, in sensor units
    white_level: float
    camera_wb: tuple[float, float, float, float]  # as-shot multipliers (R, G, B, G2)
    color_matrix: np.ndarray | None = None  # camera RGB -> XYZ or rgb_xyz (3x3 or 3x4 as LibRaw gives)
    noise_profile: tuple[tuple[float, float], ...] | None = None  # DNG NoiseProfile (S, O) per plane
    sensor_size: tuple[int, int] = (0, 0)  # (H, W) of the full raw_image
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Metadata:
    """Photographic metadata carried from decode to export."""

    source_path: str | None = None
    format: str = ""  # "jpeg", "png", "tiff", "webp", "raw:CR2", ...
    exif: bytes | None = None  # raw EXIF block (APP1 payload without the "Exif\0\0" header), orientation kept
    xmp: bytes | None = None
    icc_profile: bytes | None = None  # the profile the *source* carried (pixels are already converted)
    orientation: int = 1  # EXIF orientation of the source (already applied to the pixels)
    bit_depth: int = 8
    camera_make: str = ""
    camera_model: str = ""
    lens: str = ""
    iso: float | None = None
    exposure_time: float | None = None  # seconds
    f_number: float | None = None
    focal_length: float | None = None
    datetime: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, str]:
        """Human-readable fields for a metadata panel or ``analyze`` output."""
        out: dict[str, str] = {}
        make, model = self.camera_make or "", self.camera_model or ""
        # Many makers repeat the make in the model field ("Canon" + "Canon EOS 30D").
        cam = model if make and model.lower().startswith(make.lower()) else " ".join(s for s in (make, model) if s)
        if cam:
            out["Camera"] = cam
        if self.lens:
            out["Lens"] = self.lens
        if self.iso:
            out["ISO"] = f"{self.iso:g}"
        if self.exposure_time:
            t = self.exposure_time
            out["Exposure"] = f"1/{round(1 / t)} s" if 0 < t < 0.5 else f"{t:g} s"
        if self.f_number:
            out["Aperture"] = f"f/{self.f_number:g}"
        if self.focal_length:
            out["Focal length"] = f"{self.focal_length:g} mm"
        if self.datetime:
            out["Taken"] = self.datetime
        if self.format:
            out["Format"] = self.format
        return out


@dataclass
class Image:
    """Float32 pixels plus what they mean. Ops return new Images; they never mutate their input."""

    data: np.ndarray
    space: ColorSpace = ColorSpace.SRGB
    meta: Metadata = field(default_factory=Metadata)
    raw: RawInfo | None = None

    def __post_init__(self) -> None:
        if self.data.ndim == 2:
            self.data = self.data[:, :, None]
        if self.data.ndim != 3:
            raise ValueError(f"Image data must be (H, W, C), got shape {self.data.shape}")
        if self.data.dtype != np.float32:
            self.data = self.data.astype(np.float32)
        if self.space is ColorSpace.BAYER and self.data.shape[2] != 1:
            raise ValueError("a BAYER image has one channel")

    @property
    def height(self) -> int:
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @property
    def channels(self) -> int:
        return int(self.data.shape[2])

    @property
    def megapixels(self) -> float:
        return self.height * self.width / 1e6

    def with_data(self, data: np.ndarray, space: ColorSpace | None = None, **changes: Any) -> Image:
        """A new Image sharing metadata, with new pixels (and optionally a new space)."""
        return dataclasses.replace(self, data=data, space=space or self.space, **changes)
