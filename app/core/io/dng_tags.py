"""What a written DNG says about its camera: colour, white balance, identity and EXIF, all from the source.

Rule: carried, never invented. A source DNG's colour tags (ColorMatrix1/2, illuminants, calibration,
forward matrices, AsShotNeutral, BaselineExposure...) are copied entry by entry with their TIFF types.
Other RAWs (CR2, KDC...) have no such tags; what LibRaw knows about them is written instead:

* its XYZ -> camera matrix (``rgb_xyz_matrix``, Adobe's D65 matrix for that camera) as ColorMatrix1 with
  CalibrationIlluminant1 = D65, and the camera's as-shot white balance as AsShotNeutral;
* some files carry their own camera -> sRGB matrix that LibRaw applies without exposing it to rawpy
  (e.g. the Kodak DC50's KDC): it is measured by developing the file twice (camera RGB and sRGB
  output, linear) and solving for the 3x3 matrix, then written as XYZ -> camera;
* a file with no matrix at all is developed by LibRaw with its camera RGB taken as sRGB; DNG requires a
  ColorMatrix for colour data, so we write exactly that assumption (XYZ -> linear sRGB, D65).

No BaselineExposure, lens data or NoiseProfile is made up: what the source lacks stays out.
"""

from __future__ import annotations

import functools
import mmap
from pathlib import Path

import numpy as np

from app.core.image import Metadata, RawInfo
from app.core.io import tiff_ifd as T
from app.core.io.tiff_ifd import Entry

#: DNG IFD0 tags copied verbatim from a source DNG (colour, calibration, profile, identity).
DNG_COPY = {
    50708, 50709, 50721, 50722, 50723, 50724, 50725, 50726, 50727, 50728, 50729, 50730, 50731, 50732,
    50734, 50735, 50736, 50739, 50778, 50779, 50931, 50932, 50934, 50936, 50940, 50941, 50964, 50965,
}  # fmt: skip
#: IFD0 tags of an EXIF block that describe the photo (the rest is the old container's layout).
_IFD0_PHOTO = {270, 271, 272, 305, 306, 315, 33432}
D65 = 21
#: XYZ (D65) -> linear sRGB: the "camera" matrix of data whose camera space is sRGB.
XYZ_TO_SRGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
)


def source_dng_tags(path: str | Path) -> dict[int, Entry]:
    """The DNG colour/identity entries of a source file's IFD0 (empty for non-DNG RAWs)."""
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            ifd0 = T.read_ifds(mm, follow=False).get(0, [])  # type: ignore[arg-type]
    except (OSError, ValueError):
        return {}
    if not any(e.tag == 50706 for e in ifd0):  # DNGVersion: only a DNG's tags mean DNG things
        return {}
    return {e.tag: e for e in ifd0 if e.tag in DNG_COPY}


def libraw_xyz_to_cam(info: RawInfo) -> np.ndarray | None:
    """LibRaw's XYZ -> camera matrix (3x3) of the source, or None when it has none."""
    m = info.extra.get("rgb_xyz_matrix")
    if m is not None and np.any(m[:3]):
        return np.asarray(m, np.float64)[:3, :3]
    return None


@functools.lru_cache(maxsize=8)
def measured_rgb_cam(path: str) -> tuple[float, ...] | None:
    """LibRaw's camera -> sRGB matrix of ``path`` when rawpy does not expose it (see the module doc)."""
    import rawpy

    opts = dict(demosaic_algorithm=rawpy.DemosaicAlgorithm.LINEAR, use_camera_wb=True, gamma=(1, 1),
                output_bps=16, no_auto_bright=True, half_size=True, user_flip=0)  # fmt: skip
    try:
        out = []
        for space in (rawpy.ColorSpace.raw, rawpy.ColorSpace.sRGB):
            with rawpy.imread(path) as raw:
                out.append(raw.postprocess(output_color=space, **opts).reshape(-1, 3).astype(np.float64))
    except (rawpy.LibRawError, OSError):
        return None
    cam, rgb = out
    ok = (cam.max(1) < 60000) & (rgb.max(1) < 60000) & (rgb.min(1) > 64) & (cam.min(1) > 64)
    if ok.sum() < 100:
        return None
    m = np.linalg.lstsq(cam[ok], rgb[ok], rcond=None)[0].T
    return tuple(np.round(m, 4).reshape(-1))


def _rgb_cam(info: RawInfo) -> np.ndarray | None:
    """LibRaw's camera -> sRGB matrix for a source without an XYZ matrix: rawpy's, or measured."""
    cm = info.extra.get("libraw_color_matrix")
    if cm is not None and np.any(cm[:3, :3]):  # e.g. DNG sources
        return np.asarray(cm, np.float64)[:3, :3]
    m = measured_rgb_cam(info.path)
    return None if m is None or np.allclose(m, np.eye(3).reshape(-1), atol=1e-3) else np.reshape(m, (3, 3))


def srgb_to_cam(info: RawInfo | None) -> np.ndarray:
    """The (white-balanced) camera <- linear sRGB matrix LibRaw's development inverted (identity: none)."""
    if info is not None:
        xyz_cam = libraw_xyz_to_cam(info)
        if xyz_cam is not None:
            from app.core.isp.color import rgb_to_cam_matrix  # torch-importing package: only here

            return np.asarray(rgb_to_cam_matrix(xyz_cam), np.float64)
        rgb_cam = _rgb_cam(info)
        if rgb_cam is not None:
            return np.linalg.inv(rgb_cam)
    return np.eye(3)


def wb_multipliers(info: RawInfo | None) -> np.ndarray:
    """As-shot (R, G, B) multipliers, G = 1; ones when unknown."""
    if info is None:
        return np.ones(3)
    wb = np.asarray(info.camera_wb[:3], np.float64)
    return wb / wb[1] if np.all(wb > 0) else np.ones(3)


def colour_tags(info: RawInfo | None, source: dict[int, Entry]) -> tuple[list[Entry], str]:
    """ColorMatrix / illuminant / AsShotNeutral entries and a note saying where they came from."""
    if 50721 in source:
        return [e for tag, e in source.items() if tag not in (50708, 50709, 50735, 50736)], "copied from the source DNG"
    neutral = Entry(50728, T.RATIONAL, tuple(1.0 / wb_multipliers(info)))
    xyz_cam = libraw_xyz_to_cam(info) if info is not None else None
    if xyz_cam is not None:
        note = "LibRaw's colour matrix for this camera (D65)"
    else:
        if info is not None and _rgb_cam(info) is not None:
            xyz_cam, note = srgb_to_cam(info) @ XYZ_TO_SRGB, "LibRaw's camera -> sRGB matrix, as XYZ -> camera"
        else:
            xyz_cam, note = XYZ_TO_SRGB, "no camera matrix in the source: camera RGB taken as sRGB, as LibRaw does"
    return [Entry(50721, T.SRATIONAL, tuple(xyz_cam.reshape(-1))), Entry(50778, T.SHORT, (D65,)), neutral], note


def identity_tags(meta: Metadata, source: dict[int, Entry], software: str) -> list[Entry]:
    """Make, Model, UniqueCameraModel (what RAW developers key their camera profiles on), Software."""
    out = [Entry(305, T.ASCII, software)]
    if meta.camera_make:
        out.append(Entry(271, T.ASCII, meta.camera_make))
    if meta.camera_model:
        out.append(Entry(272, T.ASCII, meta.camera_model))
    for tag in (50708, 50709, 50735, 50736):
        if tag in source:
            out.append(source[tag])
    if not any(e.tag == 50708 for e in out) and (meta.camera_make or meta.camera_model):
        model = meta.camera_model
        same = meta.camera_make and model.lower().startswith(meta.camera_make.lower())
        out.append(Entry(50708, T.ASCII, model if same else f"{meta.camera_make} {model}".strip()))
    return out


def exif_ifds(blob: bytes | None) -> tuple[list[Entry], dict[int, list[Entry]]]:
    """A cleaned EXIF block -> (photo entries for IFD0, {EXIF_IFD: [...], GPS_IFD: [...]})."""
    if not blob:
        return [], {}
    ifds = T.read_ifds(blob)
    ifd0 = [e for e in ifds.get(0, []) if e.tag in _IFD0_PHOTO and e.tag not in (271, 272, 305)]
    exif = [e for e in ifds.get(T.EXIF_IFD, []) if e.tag not in (37500, 40962, 40963)]  # MakerNote, dims
    return ifd0, {T.EXIF_IFD: exif, T.GPS_IFD: ifds.get(T.GPS_IFD, [])}
