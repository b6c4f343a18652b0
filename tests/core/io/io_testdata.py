"""Test data made in code: ICC profiles, JPEG/PNG with EXIF, synthetic DNGs, damaged files.

Imported by the ``test_io_*`` modules (pytest puts this folder on ``sys.path``); nothing is read from
the repository and nothing here is copied from the shared datasets.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image as PILImage
from PIL.TiffImagePlugin import IFDRational

# Primaries' XYZ (D50-adapted, as ICC profiles store them) for two common wide-gamut spaces.
ADOBE_RGB = np.array([[0.6097, 0.2053, 0.1492], [0.3111, 0.6257, 0.0632], [0.0195, 0.0609, 0.7446]])
DISPLAY_P3 = np.array([[0.5151, 0.2920, 0.1571], [0.2412, 0.6922, 0.0666], [-0.0011, 0.0419, 0.7843]])
D50 = (0.9642, 1.0, 0.8249)


def _s15(v: float) -> bytes:
    return struct.pack(">i", int(round(v * 65536)))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \x00\x00\x00\x00" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\x00"
    # textDescriptionType: ASCII, then empty Unicode (lang + count) and ScriptCode (code + count + 67 bytes).
    return (
        b"desc\x00\x00\x00\x00"
        + struct.pack(">I", len(ascii_))
        + ascii_
        + b"\x00" * 8
        + b"\x00" * 3
        + b"\x00" * 67
    )


def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def matrix_profile(
    matrix: np.ndarray, gamma: float = 2.2, name: str = "test RGB", gray: bool = False
) -> bytes:
    """A v2 display profile: columns of ``matrix`` are the R, G, B primaries' XYZ; pure-gamma TRCs.

    With ``gray=True`` a grey profile (kTRC only) with that gamma.
    """
    curv = b"curv\x00\x00\x00\x00" + struct.pack(">I", 1) + struct.pack(">H", int(round(gamma * 256)))
    tags = [
        (b"desc", _desc(name)),
        (b"cprt", b"text\x00\x00\x00\x00public domain\x00"),
        (b"wtpt", _xyz(*D50)),
    ]
    if gray:
        tags.append((b"kTRC", curv))
    else:
        for sig, col in zip((b"rXYZ", b"gXYZ", b"bXYZ"), matrix.T):
            tags.append((sig, _xyz(*col)))
        tags += [(b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv)]
    table = b""
    data = b""
    offset = 128 + 4 + 12 * len(tags)
    for sig, payload in tags:
        payload = _pad(payload)
        table += struct.pack(">4sII", sig, offset + len(data), len(payload))
        data += payload
    body = struct.pack(">I", len(tags)) + table + data
    size = 128 + len(body)
    header = struct.pack(
        ">I4sI4s4s4s", size, b"none", 0x02100000, b"mntr", b"GRAY" if gray else b"RGB ", b"XYZ "
    )
    header += b"\x00" * 12 + b"acsp" + b"\x00" * 24 + struct.pack(">I", 0) + _s15(D50[0]) + _s15(D50[1])
    header += _s15(D50[2]) + b"\x00" * 4
    header += b"\x00" * (128 - len(header))
    return header + body


CFA_CODES = {"R": 0, "G": 1, "B": 2}


def write_dng(
    path: Path,
    mosaic: np.ndarray,
    *,
    cfa: str = "RGGB",
    black: int = 512,
    white: int = 16383,
    orientation: int = 1,
    noise_profile: tuple[float, ...] | None = None,
    make: str = "PhotoRestore",
    model: str = "Synthetic",
) -> Path:
    """A minimal uncompressed Bayer DNG LibRaw reads: identity colour matrix, neutral as-shot WB."""
    ident = (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)  # 3x3 identity as SRATIONAL pairs
    tags = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),
        (33421, "H", 2, (2, 2), True),
        (33422, "B", 4, tuple(CFA_CODES[c] for c in cfa), True),
        (50706, "B", 4, (1, 4, 0, 0), True),
        (50708, "s", 0, f"{make} {model}", True),
        (50714, "I", 1, black, True),
        (50717, "I", 1, white, True),
        (50721, "2i", 9, ident, True),
        (50778, "H", 1, 21, True),
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),
    ]
    if noise_profile:
        tags.append((51041, "d", len(noise_profile), tuple(noise_profile), True))
    tifffile.imwrite(path, mosaic.astype(np.uint16), photometric=32803, extratags=tags, metadata=None)
    return path


def exif_bytes(
    orientation: int = 1, make: str = "TestMake", model: str = "TestModel", iso: int = 200
) -> bytes:
    """A Pillow-built EXIF block (with the ``Exif\\0\\0`` header, as Pillow's ``exif=`` wants)."""
    ex = PILImage.Exif()
    ex[0x010F] = make
    ex[0x0110] = model
    ex[0x0112] = orientation
    ex.get_ifd(0x8769)[0x8827] = iso
    ex.get_ifd(0x8769)[0x829A] = IFDRational(1, 250)
    return ex.tobytes()


def pattern(h: int = 48, w: int = 64) -> np.ndarray:
    """An asymmetric uint8 RGB test card: every orientation of it is distinguishable."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + 2 * y) % 256], axis=-1).astype(np.uint8)
    img[: h // 4, : w // 4] = (255, 0, 0)
    return img


def save_pil(path: Path, rgb: np.ndarray, fmt: str | None = None, **kwargs) -> Path:
    PILImage.fromarray(rgb).save(path, fmt, **kwargs)
    return path


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def encoded(rgb: np.ndarray, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, fmt, **kwargs)
    return buf.getvalue()


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR claims ``width`` x ``height``; a token IDAT and IEND (enough for the header checks)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + chunk(b"IEND", b""))
    return path
