"""Bad input: every broken or odd file gives one clear line naming it (or decodes), never a traceback."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from io_testdata import encoded, pattern, truncated

from app.core.io import (
    DecodeError,
    ImageIOError,
    UnsupportedFormatError,
    load_image,
    load_preview,
    read_metadata,
)

ENTRY_POINTS: list[Callable] = [load_image, load_preview, read_metadata]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size but carries no pixel data (a decompression-bomb style header)."""

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def big_rgb() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)


def corrupt_png_idat(data: bytes) -> bytes:
    i = data.index(b"IDAT") + 40
    return data[:i] + bytes(b ^ 0x5A for b in data[i : i + 200]) + data[i + 200 :]


CASES = {
    # name: (file name, content factory, expected error class, message fragment)
    "zero-byte": ("empty.jpg", lambda: b"", DecodeError, "empty file (0 bytes)"),
    "text-as-jpg": ("notes.jpg", lambda: b"hello, this is not a picture\n" * 4, DecodeError,
                    "not a valid JPEG file (the content is text"),
    "binary-junk-png": ("junk.png", lambda: bytes(range(256)) * 4, DecodeError, "not a valid PNG file"),
    "truncated-jpeg": ("cut.jpg", lambda: truncated(encoded(big_rgb(), "JPEG")), DecodeError,
                       "truncated JPEG"),
    "jpeg-header-only": ("head.jpg", lambda: encoded(big_rgb(), "JPEG")[:300], DecodeError, "JPEG"),
    "truncated-png": ("cut.png", lambda: truncated(encoded(big_rgb(), "PNG")), DecodeError, "truncated PNG"),
    "corrupt-png": ("bad.png", lambda: corrupt_png_idat(encoded(big_rgb(), "PNG")), DecodeError, "PNG"),
    "truncated-tiff": ("cut.tif", lambda: truncated(encoded(big_rgb(), "TIFF")), DecodeError, "TIFF"),
    "truncated-webp": ("cut.webp", lambda: truncated(encoded(big_rgb(), "WEBP")), DecodeError, "WEBP"),
    "gif": ("anim.gif", lambda: encoded(pattern(), "GIF"), UnsupportedFormatError,
            "GIF images are not supported"),
    "unknown": ("data.xyz", lambda: b"\x00\x01\x02" * 100, UnsupportedFormatError, "unknown image format"),
    "bomb": ("huge.png", lambda: png_header_only(30000, 15000), DecodeError,
             "image too large: 30000x15000 = 450 megapixels (the limit is 400)"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_files_give_one_clear_line(tmp_path: Path, case: str) -> None:
    name, make, error, fragment = CASES[case]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(error) as exc:
        load_image(path)
    message = str(exc.value)
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert fragment in message
    if case not in ("truncated-png", "truncated-jpeg", "corrupt-png", "truncated-tiff", "truncated-webp"):
        for fn in (load_preview, read_metadata):  # headers already tell: the same answer everywhere
            with pytest.raises(error, match=f"^{name}: "):
                fn(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written next to it


@pytest.mark.parametrize("fn", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_missing_file_and_folder(tmp_path: Path, fn: Callable) -> None:
    with pytest.raises(DecodeError, match=r"^nope\.jpg: file not found$"):
        fn(tmp_path / "nope.jpg")
    folder = tmp_path / "photos.jpg"
    folder.mkdir()
    with pytest.raises(DecodeError, match=r"^photos\.jpg: is a folder, not an image file$"):
        fn(folder)


def test_100_megapixel_header_is_not_rejected_by_the_guard(tmp_path: Path) -> None:
    path = tmp_path / "hundred.png"
    path.write_bytes(png_header_only(12248, 8165))  # 100.0 MP, a legit medium-format size
    assert read_metadata(path).extra["full_size"] == (8165, 12248)
    with pytest.raises(DecodeError) as exc:  # no pixel data: fails as corrupt, not as too large
        load_image(path)
    assert "too large" not in str(exc.value)


def test_errors_are_image_io_errors_with_path(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageIOError) as exc:
        load_image(path)
    assert exc.value.path == str(path) and exc.value.reason == "empty file (0 bytes)"


def test_raw_as_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="raw_as"):
        load_image(tmp_path / "x.CR2", raw_as="linear")
