"""DNG export: the processed RAW back out as a RAW, for the user's own RAW developer.

Two kinds (:func:`dng_kind` says which an image gets):

* **CFA DNG** of a BAYER image (a RAW with only RAW-domain ops applied): the whole sensor array of the
  source (masked margins included) with the processed mosaic written into its visible area, in the
  source's sensor units, layout and levels. Samples the ops left unchanged keep their exact sensor
  value (normalisation clips values below black; those come back from the file), so with no op the
  mosaic equals the source's bit for bit. ActiveArea and DefaultCrop, CFA pattern, per-position black
  levels, white level, orientation, colour and white balance tags follow the source
  (:mod:`dng_tags`), and a NoiseProfile describes the noise *in the written mosaic*: the source's own
  when nothing changed, else the one the workflow measured on the result (io does not import ops).
* **Linear DNG** (PhotometricInterpretation LinearRaw) of a developed image from a RAW (a recipe with
  sRGB ops, or a non-Bayer RAW): the sRGB result taken back to linear, then to the source's
  un-white-balanced camera space through the inverse of the matrix and multipliers LibRaw developed it
  with, so ColorMatrix and AsShotNeutral mean what they meant in the source. Pixels are upright
  (Orientation 1), at the developed size; no NoiseProfile (demosaicing correlated the noise).

Both: DNG 1.4 (backward version 1.1), 16-bit, 256x256 lossless-JPEG tiles (:data:`TILE`), EXIF and GPS sub-IFDs copied
from the source's cleaned EXIF, XMP carried. Written through :func:`app.core.io.export.save_image`
(temporary file + atomic rename, never over an input).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from app.core.image import ColorSpace, Image
from app.core.io import icc, ljpeg
from app.core.io import tiff_ifd as T
from app.core.io.dng_tags import colour_tags, exif_ifds, identity_tags, source_dng_tags, srgb_to_cam, wb_multipliers
from app.core.io.errors import DecodeError, ExportError
from app.core.io.tiff_ifd import Entry

log = logging.getLogger("photorestore")
CFA, LINEAR = "CFA DNG (processed mosaic)", "linear DNG (demosaiced, camera space)"
_COLOUR = {"R": 0, "G": 1, "B": 2}
#: Lossless-JPEG tiles (compression 7, as Adobe writes them): RawTherapee 5.9 (dcraw-based) misreads
#: *uncompressed* tiled DNGs ("Unexpected end of file", black output); LibRaw and darktable read both.
TILE: int | None = 256


def dng_kind(image: Image) -> str:
    """Which DNG ``image`` becomes: :data:`CFA` or :data:`LINEAR`.

    Raises:
        ExportError: the image does not come from a RAW file (DNG is a RAW format; a JPEG stays a JPEG).
    """
    if image.space is ColorSpace.BAYER and image.raw is not None:
        return CFA
    if image.meta.format.startswith("raw:"):
        return LINEAR
    what = image.meta.format.upper() or "non-RAW"
    raise ExportError(image.meta.source_path, f"DNG export needs a RAW photo, this is a {what} image")


def _sensor_array(image: Image) -> tuple[np.ndarray, dict]:
    """The source's full sensor array with ``image``'s processed mosaic written in, plus LibRaw's layout."""
    from app.core.io.raw import cfa_layout, normalise_mosaic, open_raw

    info = image.raw
    assert info is not None
    path = Path(info.path)
    if not path.is_file():
        raise ExportError(path, "the source RAW is needed to write a DNG but it is gone")
    with open_raw(path) as raw:
        if tuple(raw.raw_image.shape[:2]) != tuple(info.sensor_size) or cfa_layout(raw)[1] != info.crop_offset:
            raise DecodeError(path, "the RAW file changed since it was loaded")
        s = raw.sizes
        sensor = np.array(raw.raw_image, np.uint16)
        desc = raw.color_desc.decode()
        layout = {
            "top": s.top_margin, "left": s.left_margin, "height": s.height, "width": s.width,
            "cfa": [desc[raw.raw_color(s.top_margin + i, s.left_margin + j)] for i in (0, 1) for j in (0, 1)],
            "black": [float(raw.black_level_per_channel[raw.raw_color(s.top_margin + i, s.left_margin + j)])
                      for i in (0, 1) for j in (0, 1)],
            "crop": (s.crop_top_margin, s.crop_left_margin, s.crop_height, s.crop_width),
        }  # fmt: skip
    visible = sensor[s.top_margin : s.top_margin + s.height, s.left_margin : s.left_margin + s.width]
    dy, dx = info.crop_offset
    mosaic = image.data[:, :, 0]
    h, w = mosaic.shape
    before = normalise_mosaic(visible, (dy, dx), info.black_level, info.white_level)
    region = visible[dy : dy + h, dx : dx + w]
    changed = 0
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        black = info.black_level[k]
        new = mosaic[i::2, j::2] * np.float32(info.white_level - black) + np.float32(black)
        new = np.rint(np.clip(new, 0, 65535)).astype(np.uint16)
        edit = mosaic[i::2, j::2] != before[i::2, j::2]  # unchanged samples keep the exact sensor value
        region[i::2, j::2][edit] = new[edit]
        changed += int(edit.sum())
    layout["changed"] = changed
    return sensor, layout


def _noise_profile(image: Image, changed: int) -> tuple[tuple[float, float], ...] | None:
    """The noise of the written mosaic: ``image.raw.noise_profile`` (the source's, or what the caller
    measured after its ops, see :func:`app.core.workflow.export.with_measured_noise`). A changed mosaic
    still carrying the source's own profile gets none: that would describe noise that was removed."""
    info = image.raw
    if info is None or not info.noise_profile:
        return None
    if changed and info.extra.get("noise_profile_of") != "result":
        return None
    return info.noise_profile


def _cfa(image: Image, source: dict[int, Entry]) -> tuple[np.ndarray, list[Entry], str]:
    sensor, lay = _sensor_array(image)
    top, left, h, w = lay["top"], lay["left"], lay["height"], lay["width"]
    info = image.raw
    assert info is not None
    tags = [
        Entry(262, T.SHORT, (32803,)), Entry(274, T.SHORT, (image.meta.orientation,)),
        Entry(33421, T.SHORT, (2, 2)), Entry(33422, T.BYTE, bytes(_COLOUR[c] for c in lay["cfa"])),
        Entry(50710, T.BYTE, bytes((0, 1, 2))), Entry(50711, T.SHORT, (1,)),
        Entry(50713, T.SHORT, (2, 2)), Entry(50714, T.RATIONAL, tuple(lay["black"])),
        Entry(50717, T.LONG, (int(round(info.white_level)),)), Entry(50829, T.LONG, (top, left, top + h, left + w)),
    ]  # fmt: skip
    ct, cl, ch, cw = lay["crop"]
    ox, oy = cl - left, ct - top  # DNG crops are relative to the active area, (x, y) order
    if ch > 0 and cw > 0 and 0 <= ox and 0 <= oy and ox + cw <= w and oy + ch <= h:
        tags += [Entry(50719, T.LONG, (ox, oy)), Entry(50720, T.LONG, (cw, ch))]
    profile = _noise_profile(image, lay["changed"])
    if profile:
        tags.append(Entry(51041, T.DOUBLE, tuple(v for pair in profile for v in pair)))
    return sensor, tags, f"{lay['changed']} samples changed, CFA {''.join(lay['cfa'])}"


def _linear(image: Image) -> tuple[np.ndarray, list[Entry], str]:
    """Developed sRGB -> linear -> white-balanced camera RGB -> as-shot camera RGB, 16-bit."""
    info = image.raw
    to_cam = (srgb_to_cam(info) / wb_multipliers(info)[:, None]).astype(np.float32)
    data = image.data if image.channels == 3 else np.repeat(image.data, 3, axis=2)
    out = np.empty(data.shape, np.uint16)
    rows = max(1, (1 << 20) // data.shape[1])
    for r0 in range(0, data.shape[0], rows):
        lin = icc.srgb_decode(np.clip(data[r0 : r0 + rows], 0.0, 1.0))
        cam = lin @ to_cam.T
        out[r0 : r0 + rows] = np.rint(np.clip(cam, 0.0, 1.0) * 65535)
    tags = [Entry(262, T.SHORT, (34892,)), Entry(274, T.SHORT, (1,)), Entry(50714, T.SHORT, (0,)),
            Entry(50717, T.LONG, (65535,))]  # fmt: skip
    return out, tags, "developed by LibRaw" if info is not None else "non-Bayer RAW, developed"


def write_dng(tmp: Path, image: Image, exif_blob: bytes | None, xmp: bytes | None, software: str) -> str:
    """Write ``image`` as a DNG to ``tmp`` (the caller makes it atomic); returns a one-line description."""
    kind = dng_kind(image)
    source = source_dng_tags(image.raw.path) if image.raw is not None else {}
    if kind == CFA:
        pixels, tags, detail = _cfa(image, source)
    else:
        pixels, tags, detail = _linear(image)
        source = {k: v for k, v in source.items() if k != 50730}  # exposure is baked into the development
    colour, colour_note = colour_tags(image.raw, source)
    photo_ifd0, subifds = exif_ifds(exif_blob)
    tags += [Entry(254, T.LONG, (0,)), Entry(50706, T.BYTE, bytes((1, 4, 0, 0))),
             Entry(50707, T.BYTE, bytes((1, 1, 0, 0)))]  # fmt: skip
    tags += colour + identity_tags(image.meta, source, software) + photo_ifd0
    if xmp:
        tags.append(Entry(700, T.BYTE, xmp))
    with open(tmp, "wb") as fh:
        T.write_tiff(fh, pixels, tags, subifds, tile=TILE, compress=(7, ljpeg.encode))
    note = f"{kind}: {detail}; colour: {colour_note}"
    log.info("%s", note)
    return note
