"""Export: JPEG, PNG 8/16, TIFF 8/16 with sRGB ICC and EXIF, written atomically, never over an input.

Safety rules:

* The file is written to a hidden temporary (``.photorestore-<random>.partial<ext>``) in the destination
  folder, flushed to disk, then moved into place in one step. Any error removes the temporary, so a
  reader never sees a partial file and a failed export leaves nothing behind.
* Refused even with ``overwrite=True``: the image's own source, its RAW, and every path in ``protect``
  (compared as files, so symlinks and hard links count). An existing output is only replaced with
  ``overwrite=True``; without it, the final step is a hard link that cannot clobber a file appearing
  meanwhile.

Pixels: float sRGB (LINEAR is encoded, BAYER refused) quantised in row chunks straight into the
encoder's layout; OpenCV encodes JPEG/PNG (metadata spliced in by :mod:`containers`). An uncompressed TIFF
is written by :mod:`tiff_ifd` with its EXIF IFD in the same pass; a deflated one by tifffile, and pyexiv2
then adds its EXIF. EXIF is cleaned on the way (:func:`exif.export_tags`): Orientation 1, new pixel
dimensions, no thumbnail or MakerNote, Software set.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pyexiv2
import tifffile

from app.core.fsutil import atomic_path
from app.core.image import ColorSpace, Image
from app.core.io import exif, icc
from app.core.io import tiff_ifd as T
from app.core.io.containers import (
    EXIF_HEADER,
    XMP_HEADER,
    jpeg_icc_segments,
    jpeg_insert,
    png_chunk,
    png_chunks,
    png_iccp,
    png_xmp,
)
from app.core.io.errors import ExportError, ImageIOError, describe
from app.core.io.tiff_ifd import Entry

#: format name -> (file suffix, bits per sample)
EXPORT_FORMATS = {"jpg": (".jpg", 8), "png": (".png", 8), "png16": (".png", 16), "tiff": (".tif", 8),
                  "tiff16": (".tif", 16), "dng": (".dng", 16)}  # fmt: skip
_ALIASES = {"jpeg": "jpg", "tif": "tiff", "tif16": "tiff16"}
CHUNK_PIXELS = 1 << 21
log = logging.getLogger("photorestore")


@dataclass
class _Blocks:
    """Metadata to embed, already cleaned."""

    icc: bytes
    exif_tags: dict[str, str]
    exif: bytes | None
    xmp: bytes | None


def resolve_format(path: Path, fmt: str | None, image: Image) -> str:
    """Explicit ``fmt``, else from the suffix (.png/.tif become 16-bit when the source had > 8 bits)."""
    if fmt:
        fmt = _ALIASES.get(fmt.lower(), fmt.lower())
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
        return fmt
    suffix = path.suffix.lower()
    deep = image.meta.bit_depth > 8
    by_suffix = {".jpg": "jpg", ".jpeg": "jpg", ".png": "png16" if deep else "png",
                 ".tif": "tiff16" if deep else "tiff", ".tiff": "tiff16" if deep else "tiff",
                 ".dng": "dng"}  # fmt: skip
    if suffix not in by_suffix:
        raise ExportError(path, f"cannot tell the format from the suffix {suffix!r}; pass format=")
    return by_suffix[suffix]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_destination(
    dest: Path, image: Image, protect: Iterable[str | os.PathLike[str]], overwrite: bool
) -> None:
    """Refuse inputs (always) and existing files (unless ``overwrite``); the folder must exist."""
    inputs = [Path(p) for p in protect]
    inputs += [Path(p) for p in (image.meta.source_path, image.raw.path if image.raw else None) if p]
    if any(_same_file(dest, p) for p in inputs):
        raise ExportError(dest, "refusing to overwrite an input file (choose another output name)")
    if dest.is_dir():
        raise ExportError(dest, "is a folder; give a file name")
    if not dest.parent.is_dir():
        raise ExportError(dest, f"output folder does not exist: {dest.parent}")
    if dest.exists() and not overwrite:
        raise ExportError(dest, "already exists (use overwrite to replace it)")


def quantise(image: Image, bits: int, *, bgr: bool) -> np.ndarray:
    """Float pixels -> contiguous ``(H, W, 3)`` uint8/uint16, rounded, clipped, NaN-safe, in chunks."""
    data = image.data
    h, w, c = data.shape
    dtype, top = (np.uint8, 255.0) if bits == 8 else (np.uint16, 65535.0)
    out = np.empty((h, w, 3), dtype)
    rows = max(1, CHUNK_PIXELS // w)
    for r0 in range(0, h, rows):
        chunk = data[r0 : r0 + rows]
        if image.space is ColorSpace.LINEAR:
            chunk = icc.srgb_encode(chunk)
        # clip maps +-inf to 1 / 0 in the same pass as the copy; NaN survives it and becomes 0 (nan_to_num's
        # four passes took half of a 24-MP export's quantising)
        v = np.clip(chunk, 0.0, 1.0, dtype=np.float32)
        v[np.isnan(v)] = 0.0
        v *= np.float32(top)
        v += np.float32(0.5)
        if c == 1:
            v = np.broadcast_to(v, v.shape[:2] + (3,))
        out[r0 : r0 + rows] = v[:, :, ::-1] if bgr else v
    return out


def _write_jpg(tmp: Path, image: Image, blocks: _Blocks, quality: int, bits: int, compress: bool) -> None:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if quality >= 90:  # no chroma subsampling at high quality: restored detail is what users export for
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(".jpg", quantise(image, 8, bgr=True), params)
    if not ok:
        raise ExportError(tmp, "JPEG encoder failed")
    segments = []
    for header, block, what in ((EXIF_HEADER, blocks.exif, "EXIF"), (XMP_HEADER, blocks.xmp, "XMP")):
        if block and len(header) + len(block) <= 65533:
            segments.append((0xE1, header + block))
        elif block:  # one APP1 segment is all JPEG allows for these
            log.warning(
                "%s: %s block of %d bytes too large for JPEG, not written", tmp.name, what, len(block)
            )
    segments += jpeg_icc_segments(blocks.icc)
    tmp.write_bytes(jpeg_insert(buf.tobytes(), segments))


def _write_png(tmp: Path, image: Image, blocks: _Blocks, quality: int, bits: int, compress: bool) -> None:
    ok, buf = cv2.imencode(".png", quantise(image, bits, bgr=True), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ExportError(tmp, "PNG encoder failed")
    png = memoryview(buf)
    ihdr_end = next(b for t, _, b in png_chunks(bytes(png[:64])) if t == b"IHDR") + 4
    extra = [png_iccp(blocks.icc)]
    if blocks.exif:
        extra.append(png_chunk(b"eXIf", blocks.exif))
    if blocks.xmp:
        extra.append(png_xmp(blocks.xmp))
    with open(tmp, "wb") as f:  # in parts: a 100-MP PNG is not copied again just to splice chunks in
        f.write(png[:ihdr_end])
        f.write(b"".join(extra))
        f.write(png[ihdr_end:])


#: IFD0 tags of the cleaned EXIF block a TIFF keeps (:data:`exif._KEEP_IMAGE`); the rest is layout.
_TIFF_IFD0 = {270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 316, 33432}
#: Classic TIFF offsets are 32-bit: bigger images go through tifffile, which switches to BigTIFF.
_CLASSIC_TIFF_BYTES = 3 << 30


def _write_tiff(tmp: Path, image: Image, blocks: _Blocks, quality: int, bits: int, compress: bool) -> None:
    pixels = quantise(image, bits, bgr=False)
    ifds = T.read_ifds(blocks.exif, exact=True) if blocks.exif else {}
    ifd0 = {e.tag: e for e in ifds.get(0, []) if e.tag in _TIFF_IFD0}
    # the photo's resolution when its EXIF has one, else "unknown" (1/1, no unit) as tifffile writes it
    for default in (Entry(282, T.RATIONAL, ((1, 1),)), Entry(283, T.RATIONAL, ((1, 1),)), Entry(296, T.SHORT, (1,))):
        ifd0.setdefault(default.tag, default)
    if not compress and pixels.nbytes < _CLASSIC_TIFF_BYTES:
        _write_tiff_direct(tmp, pixels, blocks, list(ifd0.values()), ifds)
        return
    extratags = [(700, 1, len(blocks.xmp), blocks.xmp, True)] if blocks.xmp else []
    # Deflate (level 1, horizontal predictor) makes a 24-MP 16-bit TIFF ~40 % smaller but took 2.8-5 s of the
    # 2-core CPU to encode, the second-largest stage of a RAW export (docs/performance.md): only on request.
    codec = {"compression": "zlib", "compressionargs": {"level": 1}, "predictor": True, "maxworkers": 2} \
        if compress else {}
    x, y, unit = (T.encode(ifd0[tag])[1] for tag in (282, 283, 296))  # exiv2 leaves a TIFF's own ones alone
    tifffile.imwrite(
        tmp, pixels, photometric="rgb", iccprofile=blocks.icc, metadata=None, software="PhotoRestore",
        extratags=extratags, resolution=(struct.unpack("<II", x), struct.unpack("<II", y)),
        resolutionunit=struct.unpack("<H", unit)[0], **codec,
    )  # fmt: skip
    if blocks.exif_tags:
        try:  # in place: exiv2 streams the pixel data, so a 600-MB TIFF is not held in memory
            with pyexiv2.Image(str(tmp)) as im:
                im.modify_exif(blocks.exif_tags, encoding="iso-8859-1")
        except Exception:  # noqa: BLE001 - e.g. exiv2 and a non-ASCII folder on Windows: go via memory
            with pyexiv2.ImageData(tmp.read_bytes()) as im:
                im.modify_exif(blocks.exif_tags, encoding="iso-8859-1")
                tmp.write_bytes(im.get_bytes())


def _write_tiff_direct(tmp: Path, pixels: np.ndarray, blocks: _Blocks, ifd0: list[Entry],
                       ifds: dict[int, list[Entry]]) -> None:
    """An uncompressed TIFF with its EXIF, GPS and interoperability IFDs in one pass (:mod:`tiff_ifd`).

    Why not tifffile + exiv2 as for deflate: exiv2 adds the EXIF IFD by rewriting the finished file, 0.35-0.8 s
    for a 24-MP 16-bit export (144 MB), all of it copying (docs/performance.md). The entries are the ones
    exiv2 made of the cleaned tags (``blocks.exif``), with their TIFF types and exact rationals.
    """
    entries = [*ifd0, Entry(262, T.SHORT, (2,)), Entry(34675, T.UNDEFINED, blocks.icc)]  # RGB, the sRGB profile
    if blocks.xmp:
        entries.append(Entry(700, T.BYTE, blocks.xmp))
    subifds = {tag: ifds.get(tag, []) for tag in (T.EXIF_IFD, T.GPS_IFD, T.INTEROP_IFD)}
    with open(tmp, "wb") as fh:
        T.write_tiff(fh, pixels, entries, subifds, tile=None)


def _write_dng(tmp: Path, image: Image, blocks: _Blocks, quality: int, bits: int, compress: bool) -> None:
    from app import __version__
    from app.core.io.dng import write_dng

    write_dng(tmp, image, blocks.exif, blocks.xmp, f"PhotoRestore {__version__}")


WRITERS = {
    "jpg": _write_jpg,
    "png": _write_png,
    "png16": _write_png,
    "tiff": _write_tiff,
    "tiff16": _write_tiff,
    "dng": _write_dng,
}


def _blocks(image: Image, keep_metadata: bool, cfa: bool = False) -> _Blocks:
    from app import __version__

    if not keep_metadata:
        # Only the Software tag: it is how batch export recognises this app's outputs (io/provenance.py).
        tags = {"Exif.Image.Software": f"PhotoRestore {__version__}"}
        return _Blocks(icc.srgb_profile(), tags, exif.tags_to_blob(tags), None)
    meta = image.meta
    tags = exif.export_tags(meta.exif, image.width, image.height, f"PhotoRestore {__version__}")
    if not meta.exif:
        tags.update(exif.tags_from_fields(meta))
    # A CFA DNG keeps the sensor's orientation (the mosaic is not rotated), so its XMP stays as it was.
    xmp = (meta.xmp if cfa else exif.reset_xmp_orientation(meta.xmp)) if meta.xmp else None
    return _Blocks(icc.srgb_profile(), tags, exif.tags_to_blob(tags), xmp)


#: Partial files: ``.photorestore-<pid>-<random>.partial<ext>`` (older versions: no ``<pid>-``).
PARTIAL_RE = re.compile(r"^\.photorestore-(?:(\d+)-)?[0-9a-f]{8,32}\.partial(\.[A-Za-z0-9]{1,8})?$")


def _temp_path(dest: Path) -> Path:
    for _ in range(100):  # ASCII name: some native libraries (exiv2 on Windows) choke on others
        # The pid lets a later run tell a dead process's leftover from a live process's write.
        tmp = dest.parent / f".photorestore-{os.getpid()}-{secrets.token_hex(6)}.partial{dest.suffix}"
        try:  # created exclusively with the umask's normal permissions, unlike mkstemp's 0600
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:  # read-only folder, name too long, disk full: about dest, not the temp
            raise ExportError(dest, f"cannot write in {dest.parent.name or dest.parent} "
                                    f"({exc.strerror or type(exc).__name__})") from None
    raise ExportError(dest, "cannot create a temporary file next to the output")


def remove_stale_partials(folder: str | os.PathLike[str], started: float) -> list[Path]:
    """Delete this app's partial files in ``folder`` that an interrupted run left (SIGKILL, power loss).

    Only files named like :func:`_temp_path`'s, last modified before ``started`` (the current run's start,
    ``time.time()``), and not belonging to a process that is still running (another export in progress
    in the same folder). Returns what was removed; errors are skipped (the files are harmless).
    """
    import psutil

    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = PARTIAL_RE.match(entry.name)
        if not match:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_mtime >= started:
                continue
            if match.group(1) and psutil.pid_exists(int(match.group(1))):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except (OSError, ValueError, OverflowError):
            continue
    return removed


def save_image(image: Image, path: str | os.PathLike[str], *, format: str | None = None, quality: int = 92,  # noqa: A002
               overwrite: bool = False, keep_metadata: bool = True,
               protect: Iterable[str | os.PathLike[str]] = (), compress: bool = False) -> Path:  # fmt: skip
    """Write ``image`` to ``path`` atomically.

    Args:
        image: SRGB or LINEAR float image (BAYER must be developed first, except for "dng").
        path: output file; its folder must exist.
        format: "jpg", "png", "png16", "tiff", "tiff16" or "dng" (RAW in, RAW out: :mod:`app.core.io.dng`);
            None infers it from the suffix.
        quality: JPEG quality 1..100 (4:4:4 chroma from 90 up).
        overwrite: replace an existing output (never an input).
        keep_metadata: carry EXIF/XMP over (the sRGB ICC profile is always embedded).
        protect: paths that must never be written (the run's inputs).
        compress: TIFF only: deflate-compress (smaller, slower); by default a TIFF is uncompressed.

    Returns:
        The written path.

    Raises:
        ExportError: refused destination, BAYER input, or a write failure (nothing is left behind).
        ValueError: unknown format or quality out of range.
    """
    dest = Path(path)
    fmt = resolve_format(dest, format, image)
    if fmt == "dng":
        from app.core.io.dng import dng_kind

        try:
            dng_kind(image)  # a non-RAW image: refused before anything is written
        except ExportError as exc:
            raise ExportError(dest, exc.reason) from None
    elif image.space is ColorSpace.BAYER:
        raise ExportError(dest, "a RAW mosaic cannot be saved as an image; develop() it first")
    if image.channels not in (1, 3):
        raise ExportError(dest, f"cannot export a {image.channels}-channel image (expected RGB or grey)")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    try:
        check_destination(dest, image, protect, overwrite)
    except OSError as exc:  # e.g. a file name too long for the disk: one line about dest, no raw errno
        raise ExportError(dest, f"cannot write here ({exc.strerror or type(exc).__name__})") from None
    blocks = _blocks(image, keep_metadata, cfa=image.space is ColorSpace.BAYER)
    tmp = None
    try:
        with atomic_path(dest, overwrite=overwrite, temp=_temp_path) as tmp:
            WRITERS[fmt](tmp, image, blocks, int(quality), EXPORT_FORMATS[fmt][1], bool(compress))
    except BaseException as exc:
        if isinstance(exc, FileExistsError):  # the commit met a file that appeared meanwhile
            raise ExportError(dest, "already exists (use overwrite to replace it)") from None
        if isinstance(exc, ImageIOError):
            if exc.path == str(tmp):
                raise type(exc)(dest, exc.reason) from None
            raise
        if isinstance(exc, MemoryError):
            raise ExportError(dest, "not enough memory to encode the image") from None
        if isinstance(exc, OSError):
            raise ExportError(dest, f"cannot write ({exc.strerror or exc})") from None
        if isinstance(exc, Exception):
            raise ExportError(dest, f"could not write {fmt} ({type(exc).__name__}: {describe(exc)})") from exc
        raise
    return dest
