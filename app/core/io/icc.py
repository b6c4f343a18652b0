"""Colour management: convert pixels carrying an embedded ICC profile to sRGB, the working space.

Most embedded profiles (Adobe RGB, Display P3, ProPhoto, camera "sRGB" variants, grey gamma) are
*matrix/TRC* profiles. Those we convert ourselves, in float: tone curves as lookup tables over the
source's integer codes (exact for 8- and 16-bit data), a 3x3 matrix through the D50 PCS, then the sRGB
curve. That keeps 16-bit sources at 16-bit precision and works in row chunks, where LittleCMS via
``PIL.ImageCms`` only handles 8-bit RGB images. The result matches LittleCMS' relative colorimetric
transform (what it applies to matrix/TRC profiles for any intent) to well under one 8-bit step.
Anything else (LUT-based profiles) goes through ``ImageCms`` at 8-bit precision, with a note.
"""

from __future__ import annotations

import functools
import io
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image as PILImage
from PIL import ImageCms

from app.core.color import linear_to_srgb, srgb_to_linear
from app.core.io.errors import describe

log = logging.getLogger("photorestore")

#: ``convert(chunk, maxval) -> float32 (..., 3)`` sRGB-encoded values in [0, 1].
Converter = Callable[[np.ndarray, float], np.ndarray]


#: the creation date written into the embedded profile's header (ICC dateTimeNumber: y, m, d, h, min, s)
PROFILE_DATE = (2024, 1, 1, 0, 0, 0)


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB profile we embed in every export (LittleCMS' built-in sRGB), with a fixed creation date.

    LittleCMS stamps the current time into the header, which made two exports of the same photo differ in
    12 bytes (a batch's results must be the same bytes wherever and whenever they were made: docs/batch.md).
    """
    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    raw[24:36] = struct.pack(">6H", *PROFILE_DATE)
    raw[84:100] = bytes(16)  # profile ID (an MD5 that covers the date): all zero means "not computed"
    return bytes(raw)


def srgb_encode(lin: np.ndarray) -> np.ndarray:
    """Linear [0, 1] -> sRGB-encoded (IEC 61966-2-1), float32; input is clipped to [0, 1]."""
    return linear_to_srgb(np.clip(lin, 0.0, 1.0, dtype=np.float32))


def srgb_decode(enc: np.ndarray) -> np.ndarray:
    """sRGB-encoded -> linear, float32."""
    return srgb_to_linear(enc)


@dataclass(frozen=True)
class Curve:
    """An ICC tone curve (``curv`` or ``para``): encoded value -> linear, on [0, 1]."""

    kind: str  # "gamma", "table" or "para"
    params: tuple[float, ...]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
        if self.kind == "gamma":
            return x ** self.params[0]
        if self.kind == "table":
            table = np.asarray(self.params)
            return np.interp(x, np.linspace(0.0, 1.0, len(table)), table)
        g, a, b, c, d, e, f = (list(self.params) + [0.0] * 7)[:7]
        ftype = len(self.params)
        if ftype == 1:
            return x**g
        base = np.maximum(a * x + b, 0.0) ** g
        if ftype == 3:  # type 1: (aX+b)^g for X >= -b/a, else 0
            return np.where(x >= -b / a, base, 0.0)
        if ftype == 4:  # type 2: (aX+b)^g + c for X >= -b/a, else c
            return np.where(x >= -b / a, base + c, c)
        if ftype == 5:  # type 3: (aX+b)^g for X >= d, else cX
            return np.where(x >= d, base, c * x)
        return np.where(x >= d, base + e, c * x + f)  # type 4


@dataclass(frozen=True)
class MatrixShaper:
    """A parsed matrix/TRC profile: ``XYZ_D50 = matrix @ [curve_r(R), curve_g(G), curve_b(B)]``."""

    curves: tuple[Curve, ...]  # three for RGB, one for grey
    matrix: np.ndarray | None  # 3x3, columns = primaries' PCS XYZ; None for grey

    def linearise(self, chunk: np.ndarray, maxval: float) -> np.ndarray:
        """Encoded samples ``(..., C)`` -> linear float32 through the tone curves (LUT for integers)."""
        out = np.empty(chunk.shape, np.float32)
        for c in range(chunk.shape[-1]):
            curve = self.curves[min(c, len(self.curves) - 1)]
            if chunk.dtype.kind in "ui" and maxval <= 65535:
                lut = curve(np.arange(int(maxval) + 1) / maxval).astype(np.float32)
                out[..., c] = lut[chunk[..., c]]
            else:
                out[..., c] = curve(chunk[..., c] / np.float32(maxval))
        return out

    def to_srgb(self, chunk: np.ndarray, maxval: float) -> np.ndarray:
        lin = self.linearise(chunk, maxval)
        if self.matrix is None:
            lin = np.repeat(lin[..., :1], 3, axis=-1)
        else:
            lin = lin @ _to_srgb_matrix(self.matrix).T.astype(np.float32)
        return srgb_encode(lin)


def _s15(buf: bytes, off: int, n: int) -> list[float]:
    return [v / 65536.0 for v in struct.unpack(f">{n}i", buf[off : off + 4 * n])]


def _parse_curve(buf: bytes, off: int) -> Curve | None:
    sig = buf[off : off + 4]
    if sig == b"curv":
        (n,) = struct.unpack(">I", buf[off + 8 : off + 12])
        if n == 0:
            return Curve("gamma", (1.0,))
        if n == 1:
            return Curve("gamma", (struct.unpack(">H", buf[off + 12 : off + 14])[0] / 256.0,))
        table = np.frombuffer(buf, ">u2", n, off + 12).astype(np.float64) / 65535.0
        return Curve("table", tuple(table.tolist()))
    if sig == b"para":
        ftype = struct.unpack(">H", buf[off + 8 : off + 10])[0]
        count = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(ftype)
        return None if count is None else Curve("para", tuple(_s15(buf, off + 12, count)))
    return None


def parse_profile(icc: bytes) -> MatrixShaper | None:
    """Parse a matrix/TRC RGB or grey-TRC profile; None for anything else (LUT-based, CMYK, damaged)."""
    try:
        space = icc[16:20]
        (count,) = struct.unpack(">I", icc[128:132])
        tags = {}
        for i in range(count):
            sig, off, size = struct.unpack(">4sII", icc[132 + 12 * i : 144 + 12 * i])
            if off + size > len(icc):
                return None
            tags[sig] = off
        if space == b"GRAY" and b"kTRC" in tags:
            k = _parse_curve(icc, tags[b"kTRC"])
            return None if k is None else MatrixShaper((k,), None)
        if space != b"RGB " or icc[20:24] != b"XYZ ":
            return None
        if any(t in tags for t in (b"A2B0", b"A2B1")) and not all(t in tags for t in (b"rXYZ", b"rTRC")):
            return None
        cols = [_s15(icc, tags[t] + 8, 3) for t in (b"rXYZ", b"gXYZ", b"bXYZ")]
        curves = tuple(_parse_curve(icc, tags[t]) for t in (b"rTRC", b"gTRC", b"bTRC"))
    except (KeyError, struct.error, ValueError):
        return None
    if any(c is None for c in curves):
        return None
    return MatrixShaper(curves, np.array(cols, np.float64).T)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=1)
def _srgb_shaper() -> MatrixShaper:
    shaper = parse_profile(srgb_profile())
    assert shaper is not None and shaper.matrix is not None
    return shaper


def _to_srgb_matrix(src: np.ndarray) -> np.ndarray:
    return np.linalg.inv(_srgb_shaper().matrix) @ src


def is_srgb(shaper: MatrixShaper) -> bool:
    """True when ``shaper`` is sRGB in all but name (then converting would only add rounding)."""
    ref = _srgb_shaper()
    if shaper.matrix is None or not np.allclose(shaper.matrix, ref.matrix, atol=2e-3):
        return False
    x = np.linspace(0.0, 1.0, 65)
    return all(np.allclose(c(x), srgb_decode(x), atol=2e-3) for c in shaper.curves)


def description(icc: bytes) -> str:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except Exception:  # noqa: BLE001 - a name is only for messages
        return "unnamed profile"


def converter_for(icc: bytes | None, channels: int, notes: list[str]) -> Converter | None:
    """How to bring pixels tagged with ``icc`` to sRGB; None when they already are sRGB (or untagged).

    Args:
        icc: the embedded profile, or None.
        channels: 1 (grey) or 3 (RGB) colour channels in the data the converter will get.
        notes: human-readable notes are appended here (fallbacks, ignored profiles).
    """
    if not icc:
        return None
    shaper = parse_profile(icc)
    if shaper is not None:
        if (shaper.matrix is None) != (channels == 1):
            notes.append(f"embedded ICC profile ({description(icc)}) does not match the image; ignored")
            return None
        return None if shaper.matrix is not None and is_srgb(shaper) else shaper.to_srgb
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "L" if channels == 1 else "RGB"
        transform = ImageCms.buildTransform(
            src, ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile())), mode, "RGB"
        )
    except Exception as exc:  # noqa: BLE001 - a broken profile must not stop the decode
        notes.append(f"embedded ICC profile unusable ({describe(exc)}); treated as sRGB")
        return None
    notes.append(f"ICC profile {description(icc)!r} converted with LittleCMS at 8-bit precision")

    def convert(chunk: np.ndarray, maxval: float) -> np.ndarray:
        u8 = (
            chunk if chunk.dtype == np.uint8 else np.clip(chunk / maxval * 255 + 0.5, 0, 255).astype(np.uint8)
        )
        img = PILImage.fromarray(np.ascontiguousarray(u8[..., 0] if channels == 1 else u8))
        out = np.asarray(ImageCms.applyTransform(img, transform), dtype=np.float32)
        return out * np.float32(1 / 255)

    return convert
