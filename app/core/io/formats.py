"""What kind of file is this? Path checks and content sniffing, before any decoder sees the file.

The extension alone is not trusted: a text file named ``.jpg`` must give a clear message rather than a
decoder's cryptic one, and a PNG saved as ``.jpg`` should simply open. RAW containers are mostly TIFF
underneath, so for TIFF-magic files IFD0's tags decide between "raster TIFF" and "RAW" (the extension
only adds RAW formats whose IFD0 looks plain).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from app.core.io.errors import DecodeError, UnsupportedFormatError

#: Largest image we decode (pixels). A legit 100-MP photo passes; a decompression bomb does not.
MAX_PIXELS = 400_000_000

#: Extensions LibRaw reads (lower case, with the dot).
RAW_EXTENSIONS = frozenset(
    "." + e
    for e in (
        "3fr ari arw bay cap cr2 cr3 crw cs1 dc2 dcr dcs dng drf eip erf fff gpr iiq k25 kdc mdc mef mos "
        "mrw nef nrw obm orf pef ptx pxn qtk r3d raf raw rdc rw2 rwl rwz sr2 srf srw sti x3f"
    ).split()
)
RASTER_EXTENSIONS = {
    ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
    ".png": "png", ".tif": "tiff", ".tiff": "tiff", ".webp": "webp", ".bmp": "bmp",
}  # fmt: skip
#: Every extension :func:`app.core.io.load_image` accepts (for file dialogs).
SUPPORTED_EXTENSIONS = frozenset(RASTER_EXTENSIONS) | RAW_EXTENSIONS

_RAW_MAGIC = (b"FUJIFILM", b"IIRO", b"IIRS", b"IIU\x00", b"\x00MRM", b"FOVb", b"HEAPCCDR", b"ARRI")


def check_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path after checking it names a readable, non-empty regular file.

    Raises:
        DecodeError: missing file, a folder, an empty file or an unreadable one.
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DecodeError(p, "file not found") from None
    except PermissionError:
        raise DecodeError(p, "permission denied") from None
    except OSError as exc:
        raise DecodeError(p, f"cannot read file ({exc.strerror or exc})") from None
    if p.is_dir():
        raise DecodeError(p, "is a folder, not an image file")
    if not p.is_file():
        raise DecodeError(p, "is not a regular file")
    if st.st_size == 0:
        raise DecodeError(p, "empty file (0 bytes)")
    return p


def read_bytes(path: Path) -> bytes:
    """The whole file, with OS errors turned into :class:`DecodeError`."""
    try:
        return path.read_bytes()
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except MemoryError:
        raise DecodeError(path, "not enough memory to read the file") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None


def read_head(path: Path, n: int = 64) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None


def sniff(head: bytes) -> str | None:
    """Format from the first bytes: "jpeg", "png", "webp", "tiff", "bmp", "gif", "raw" or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(_RAW_MAGIC) or head[4:12] in (b"ftypcrx ",):
        return "raw"
    return None


def detect(path: Path) -> str:
    """Decide which decoder handles ``path``: "raw" or a raster kind ("jpeg", "png", "tiff", ...).

    Raises:
        DecodeError: the content is not image data although the extension says it should be.
        UnsupportedFormatError: a format we do not read (GIF, unknown extension and content).
    """
    head = read_head(path)
    kind = sniff(head)
    ext = path.suffix.lower()
    if kind in ("jpeg", "png", "webp", "bmp"):
        return kind
    if kind == "gif":
        raise UnsupportedFormatError(path, "GIF images are not supported (convert to PNG first)")
    if kind == "tiff":
        return "raw" if ext in RAW_EXTENSIONS or tiff_holds_raw(path, head) else "tiff"
    if kind == "raw" or ext in RAW_EXTENSIONS:
        return "raw"
    if ext in RASTER_EXTENSIONS:
        expected = RASTER_EXTENSIONS[ext].upper()
        looks = "text" if _looks_like_text(head) else "unrecognised data"
        raise DecodeError(path, f"not a valid {expected} file (the content is {looks}, not an image)")
    raise UnsupportedFormatError(path, f"unknown image format (extension {ext or 'none'!r})")


# IFD0 tags only camera RAW containers carry: DNGVersion, TIFF/EP StandardID, CFA pattern/repeat, Kodak IFD.
_RAW_TAGS = frozenset({50706, 37398, 33421, 33422, 33424})
_RAW_PHOTOMETRIC = frozenset({32803, 34892})  # CFA, LinearRaw
_RAW_COMPRESSION = frozenset({32767, 32769, 32770, 32771, 34713, 65000})  # Sony, Nikon packed/NEF, Kodak
_MAX_IFD_ENTRIES = 1000


def tiff_holds_raw(path: Path, head: bytes) -> bool:
    """Whether a TIFF-structured file is a camera RAW (CR2, DNG, KDC, NEF...) rather than a raster TIFF.

    By content, not name: a KDC renamed ``.jpg`` decoded as a TIFF gives its 96x64 thumbnail, and a CR2
    or DNG renamed ``.tif`` fails in libtiff. Reads IFD0's tag ids (a few hundred bytes); a damaged IFD
    is "not RAW" and the TIFF decoder reports the damage.
    """
    if head[8:10] == b"CR":  # Canon CR2 signature after the header
        return True
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return False
    end = "<" if head[:2] == b"II" else ">"
    try:
        with open(path, "rb") as fh:
            fh.seek(struct.unpack(end + "I", head[4:8])[0])
            count = struct.unpack(end + "H", fh.read(2))[0]
            table = fh.read(12 * min(count, _MAX_IFD_ENTRIES))
    except (OSError, struct.error, ValueError, OverflowError):
        return False
    has_make = has_subifds = False
    for k in range(len(table) // 12):
        tag, typ, _count, value = struct.unpack(end + "HHII", table[12 * k : 12 * k + 12])
        short = value >> 16 if end == ">" else value & 0xFFFF  # a SHORT value sits in the first 2 bytes
        if tag in _RAW_TAGS:
            return True
        if typ == 3 and ((tag == 262 and short in _RAW_PHOTOMETRIC) or (tag == 259 and short in _RAW_COMPRESSION)):
            return True
        has_make |= tag == 271
        has_subifds |= tag == 330
    return has_make and has_subifds  # a camera's file with sub-images (NEF, ARW, PEF style): the RAW is in one


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)
