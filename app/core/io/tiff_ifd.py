"""Minimal TIFF structure: read IFD entries (typed), write a tiled image with its IFD and sub-IFDs.

Why our own and not tifffile's writer: a DNG needs an EXIF and a GPS sub-IFD next to the image IFD,
filled with entries copied *with their TIFF types* from the source's EXIF block, and every byte of the
image IFD under our control (DNG readers are strict about CFA and level tags). tifffile writes
``extratags`` into the image IFD only. What we need is small: classic little-endian TIFF, one image
IFD with tiles (uncompressed, or compressed by a given function such as :mod:`ljpeg`) or one strip,
and pointer tags to further IFDs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO

import numpy as np

BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE = range(1, 13)
#: TIFF type -> (struct code of one value, size in bytes); rationals are two codes.
_TYPES = {BYTE: ("B", 1), ASCII: ("B", 1), SHORT: ("H", 2), LONG: ("I", 4), RATIONAL: ("II", 8),
          SBYTE: ("b", 1), UNDEFINED: ("B", 1), SSHORT: ("h", 2), SLONG: ("i", 4), SRATIONAL: ("ii", 8),
          FLOAT: ("f", 4), DOUBLE: ("d", 8)}  # fmt: skip
EXIF_IFD, GPS_IFD, INTEROP_IFD, SUB_IFDS = 34665, 34853, 40965, 330
_POINTERS = {EXIF_IFD, GPS_IFD, INTEROP_IFD, SUB_IFDS}


@dataclass(frozen=True)
class Entry:
    """One IFD entry. ``value``: bytes for BYTE/ASCII/UNDEFINED, else a tuple of numbers
    (rationals as floats or ``Fraction``; a sub-IFD pointer's value is a list of entries)."""

    tag: int
    type: int
    value: Any


def _rational(v: Any, signed: bool) -> tuple[int, int]:
    if isinstance(v, tuple):  # (numerator, denominator) as read with exact=True: written back unchanged
        return int(v[0]), int(v[1])
    f = v if isinstance(v, Fraction) else Fraction(float(v)).limit_denominator(1_000_000)
    top = 2**31 - 1 if signed else 2**32 - 1
    while abs(f.numerator) > top or f.denominator > 2**32 - 1:  # keep the value, lose precision
        f = Fraction(f.numerator // 2, max(f.denominator // 2, 1))
    return f.numerator, f.denominator


def encode(entry: Entry) -> tuple[int, bytes]:
    """(count, little-endian bytes) of an entry's value."""
    t = entry.type
    if t in (BYTE, ASCII, UNDEFINED):
        raw = entry.value.encode("latin-1") if isinstance(entry.value, str) else bytes(entry.value)
        if t == ASCII and not raw.endswith(b"\x00"):
            raw += b"\x00"
        return len(raw), raw
    values = tuple(entry.value) if isinstance(entry.value, (list, tuple, np.ndarray)) else (entry.value,)
    if t in (RATIONAL, SRATIONAL):
        flat = [x for v in values for x in _rational(v, t == SRATIONAL)]
        return len(values), struct.pack(f"<{len(flat)}{'i' if t == SRATIONAL else 'I'}", *flat)
    code = _TYPES[t][0]
    if code in "fd":
        return len(values), struct.pack(f"<{len(values)}{code}", *(float(v) for v in values))
    return len(values), struct.pack(f"<{len(values)}{code}", *(int(v) for v in values))


def read_ifds(data: bytes, *, follow: bool = True, exact: bool = False) -> dict[int, list[Entry]]:
    """Entries of IFD0 and (``follow``) its EXIF / GPS sub-IFDs and the EXIF IFD's interoperability IFD,
    keyed 0, EXIF_IFD, GPS_IFD, INTEROP_IFD (pointer entries are left out of the sub-IFDs).

    Values are decoded to Python (so big-endian sources re-encode as little-endian); rationals become
    ``Fraction`` (reduced: 62/10 reads 31/5), or with ``exact`` ``(numerator, denominator)`` pairs that
    write back as they were. Malformed entries are skipped: metadata is best effort, never a reason to
    fail an export.
    """
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return {}
    bo = "<" if data[:2] == b"II" else ">"
    out: dict[int, list[Entry]] = {}

    def ifd(offset: int) -> list[Entry]:
        entries: list[Entry] = []
        if not 0 < offset <= len(data) - 2:
            return entries
        (n,) = struct.unpack_from(bo + "H", data, offset)
        for i in range(min(n, 4096)):
            pos = offset + 2 + 12 * i
            if pos + 12 > len(data):
                break
            tag, typ, count = struct.unpack_from(bo + "HHI", data, pos)
            if typ not in _TYPES:
                continue
            code, size = _TYPES[typ]
            nbytes = size * count
            start = pos + 8 if nbytes <= 4 else struct.unpack_from(bo + "I", data, pos + 8)[0]
            if start + nbytes > len(data) or count > 1 << 24:
                continue
            raw = data[start : start + nbytes]
            if typ in (BYTE, ASCII, UNDEFINED):
                entries.append(Entry(tag, typ, raw))
                continue
            vals = struct.unpack(f"{bo}{count * len(code)}{code[0]}", raw)
            if typ in (RATIONAL, SRATIONAL) and exact:
                vals = tuple(zip(vals[::2], vals[1::2]))
            elif typ in (RATIONAL, SRATIONAL):
                vals = tuple(Fraction(a, b) if b else Fraction(0) for a, b in zip(vals[::2], vals[1::2]))
            entries.append(Entry(tag, typ, vals))
        return entries

    def pointer(entries: list[Entry], tag: int) -> int:
        e = next((x for x in entries if x.tag == tag and x.type in (LONG, 13) and x.value), None)
        return int(e.value[0]) if e is not None else 0

    (first,) = struct.unpack_from(bo + "I", data, 4)
    out[0] = ifd(first)
    if follow:
        for tag in (EXIF_IFD, GPS_IFD):
            if at := pointer(out[0], tag):
                entries = ifd(at)
                if tag == EXIF_IFD and (interop := pointer(entries, INTEROP_IFD)):
                    out[INTEROP_IFD] = [x for x in ifd(interop) if x.tag not in _POINTERS]
                out[tag] = [x for x in entries if x.tag not in _POINTERS]
    return out


def _ifd_size(entries: Sequence[Entry]) -> int:
    extra = 0
    for e in entries:
        n = len(encode(e)[1]) if e.tag not in _POINTERS else 4
        if n > 4:
            extra += n + (n & 1)
    return 2 + 12 * len(entries) + 4 + extra


def _ifd_bytes(entries: Sequence[Entry], at: int, pointers: dict[int, int]) -> bytes:
    """Serialise one IFD placed at file offset ``at``; pointer tags take their offsets from ``pointers``."""
    entries = sorted(entries, key=lambda e: e.tag)
    head = [struct.pack("<H", len(entries))]
    data: list[bytes] = []
    data_pos = at + 2 + 12 * len(entries) + 4
    for e in entries:
        if e.tag in pointers:
            count, raw, typ = 1, struct.pack("<I", pointers[e.tag]), LONG
        else:
            (count, raw), typ = encode(e), e.type
        if len(raw) <= 4:
            head.append(struct.pack("<HHI", e.tag, typ, count) + raw.ljust(4, b"\x00"))
        else:
            head.append(struct.pack("<HHII", e.tag, typ, count, data_pos))
            raw += b"\x00" * (len(raw) & 1)  # values start on a word boundary
            data.append(raw)
            data_pos += len(raw)
    head.append(struct.pack("<I", 0))
    return b"".join(head + data)


def write_tiff(fh: BinaryIO, pixels: np.ndarray, entries: Sequence[Entry],
               subifds: dict[int, Sequence[Entry]], tile: int | None = 256,
               compress: tuple[int, Callable[[np.ndarray], bytes]] | None = None) -> None:  # fmt: skip
    """Write a classic TIFF: ``pixels`` ``(H, W)`` or ``(H, W, S)`` uint16 (or uint8) in ``tile`` x ``tile``
    tiles (``tile=None``: one uncompressed strip, rows in order, written straight from ``pixels``).
    ``compress`` = (TIFF compression code, function encoding one padded ``(tile, tile, S)`` tile); None
    writes tiles uncompressed.

    ``entries`` is the image IFD without layout tags (size, samples, tiles are added here);
    ``subifds`` maps a pointer tag (EXIF_IFD, GPS_IFD, INTEROP_IFD) to the entries of that IFD; empty ones
    are left out, and the interoperability IFD hangs off the EXIF IFD (written only with it).
    """
    px = pixels if pixels.ndim == 3 else pixels[:, :, None]
    h, w, s = px.shape
    if px.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"expected uint16 or uint8 samples, got {px.dtype}")
    dtype = np.dtype(px.dtype).newbyteorder("<")
    fh.write(b"II*\x00" + struct.pack("<I", 0))  # IFD0 offset patched at the end
    code, fn = compress if compress is not None and tile is not None else (1, None)
    layout = [Entry(256, LONG, (w,)), Entry(257, LONG, (h,)), Entry(258, SHORT, (8 * dtype.itemsize,) * s),
              Entry(259, SHORT, (code,)), Entry(277, SHORT, (s,)), Entry(284, SHORT, (1,))]  # fmt: skip
    if tile is None:
        layout += [Entry(273, LONG, (fh.tell(),)), Entry(278, LONG, (h,)),
                   Entry(279, LONG, (h * w * s * dtype.itemsize,))]  # fmt: skip
        fh.write(np.ascontiguousarray(px, dtype).data)  # no bytes copy of a 144-MB image
    else:
        offsets, counts = [], []
        buf = np.zeros((tile, tile, s), dtype)
        for ty in range(-(-h // tile)):
            for tx in range(-(-w // tile)):
                part = px[ty * tile : (ty + 1) * tile, tx * tile : (tx + 1) * tile]
                buf[:] = 0  # edge tiles are padded (TIFF tiles are always whole)
                buf[: part.shape[0], : part.shape[1]] = part
                data = fn(buf) if fn is not None else buf.tobytes()
                offsets.append(fh.tell())
                counts.append(len(data))
                fh.write(data + b"\x00" * (len(data) & 1))  # tiles start on a word boundary
        layout += [Entry(322, SHORT, (tile,)), Entry(323, SHORT, (tile,)), Entry(324, LONG, tuple(offsets)),
                   Entry(325, LONG, tuple(counts))]  # fmt: skip
    subs = {tag: [e for e in v if e.tag not in _POINTERS] for tag, v in subifds.items() if v}
    if INTEROP_IFD in subs and EXIF_IFD in subs:
        subs[EXIF_IFD].append(Entry(INTEROP_IFD, LONG, (0,)))
    else:
        subs.pop(INTEROP_IFD, None)
    main = [e for e in entries if e.tag not in {x.tag for x in layout} | set(_POINTERS)] + layout
    main += [Entry(tag, LONG, (0,)) for tag in subs if tag != INTEROP_IFD]
    pos = fh.tell() + (fh.tell() & 1)
    fh.write(b"\x00" * (pos - fh.tell()))
    where, at = {}, pos + _ifd_size(main)
    for tag, sub in subs.items():
        where[tag] = at
        at += _ifd_size(sub)
    fh.write(_ifd_bytes(main, pos, where))
    for tag, sub in subs.items():
        fh.write(_ifd_bytes(sub, where[tag], where))
    fh.seek(4)
    fh.write(struct.pack("<I", pos))
    fh.seek(0, 2)
