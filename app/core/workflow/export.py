"""Export: render the recipe at full resolution and save it (the GUI's export and batch, the CLI's run).

The pipeline runs on the full-resolution source without the interactive cache, ops tile themselves, and
``save_image`` writes atomically and refuses to overwrite an input photo.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.context import RunContext
from app.core.image import Image
from app.core.pipeline import Step
from app.core.workflow.files import open_photo
from app.core.workflow.render import render_full

#: (label, save_image format, extension, bit depth)
FORMATS: tuple[tuple[str, str, str, int], ...] = (
    ("JPEG", "jpg", ".jpg", 8),
    ("PNG", "png", ".png", 8),
    ("PNG", "png16", ".png", 16),
    ("TIFF", "tiff16", ".tif", 16),
    ("DNG (RAW)", "dng", ".dng", 16),  # RAW photos only: the processed RAW for the user's RAW developer
)


def extension(fmt: str) -> str:
    """The file extension of a ``save_image`` format ("tiff16" -> ".tif")."""
    return next(ext for _, f, ext, _ in FORMATS if f == fmt)


@dataclass(frozen=True)
class ExportOptions:
    """How to save.

    Attributes:
        format: a ``save_image`` format: "jpg", "png", "png16", "tiff16" or "dng".
        quality: JPEG quality 1-100.
        keep_metadata: carry EXIF over (orientation reset) and embed sRGB ICC.
        overwrite: replace an existing *output* file (an input photo is never replaced).
        compress: TIFF only: deflate-compress (~40 % smaller, seconds slower on a 24-MP photo).
    """

    format: str = "jpg"
    quality: int = 92
    keep_metadata: bool = True
    overwrite: bool = False
    compress: bool = False

    @property
    def extension(self) -> str:
        return extension(self.format)


def default_format(image: Image) -> str:
    """16-bit TIFF for a RAW (keeps its depth), JPEG otherwise."""
    return "tiff16" if image.raw is not None else "jpg"


def output_path(source: str | os.PathLike[str], folder: str | os.PathLike[str], opts: ExportOptions,
                suffix: str = "_restored") -> Path:
    """``folder/<stem><suffix><ext>``; never the source itself."""
    src = Path(source)
    out = Path(folder) / f"{src.stem}{suffix}{opts.extension}"
    if out.resolve() == src.resolve():
        out = Path(folder) / f"{src.stem}{suffix}-1{opts.extension}"
    return out


def unique_path(path: Path) -> Path:
    """``path`` or ``stem-2.ext``, ``stem-3.ext``... whichever does not exist yet."""
    if not path.exists():
        return path
    for i in range(2, 10_000):
        cand = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not cand.exists():
            return cand
    raise FileExistsError(f"{path.name}: too many existing versions")


def dng_kind_for(source: Image, steps: Sequence[Step]) -> str:
    """Which DNG exporting ``source`` with ``steps`` writes (:data:`app.core.io.dng.CFA` when every op
    works on the mosaic, else :data:`~app.core.io.dng.LINEAR`), decided from the plan before any work.

    Raises:
        ExportError: ``source`` is not a RAW photo (one line, nothing written).
    """
    from app.core.io.dng import CFA, LINEAR, dng_kind
    from app.core.pipeline import Pipeline

    kind = dng_kind(source)
    if kind == CFA and any(p.op.id == "develop" for p in Pipeline().plan(source, steps, "", develop=False)):
        return LINEAR
    return kind


def with_measured_noise(source: Image, result: Image) -> Image:
    """``result`` (a processed mosaic) with the noise measured on it as its RAW noise profile, so its DNG's
    NoiseProfile describes the noise left after the ops (the RAW denoiser's own fit; none when too few flat
    areas). An unprocessed mosaic keeps the source's profile."""
    import dataclasses

    from app.core.image import ColorSpace
    from app.core.isp.mosaic import pack_rggb_np
    from app.core.ops.denoise_noise import estimate_raw_noise

    if result is source or result.space is not ColorSpace.BAYER or result.raw is None:
        return result
    est = estimate_raw_noise(pack_rggb_np(result.data))
    profile = None if est is None else ((sum(est.shot) / 4, sum(est.read) / 4),)
    extra = {**result.raw.extra, "noise_profile_of": "result"}
    raw = dataclasses.replace(result.raw, noise_profile=profile, extra=extra)
    return Image(result.data, result.space, result.meta, raw)


def export_image(source: Image, steps: Sequence[Step], out: Path, opts: ExportOptions, ctx: RunContext,
                 *, protect: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Render ``source`` at full resolution and save it to ``out``; returns the written path.

    DNG: a non-RAW source is refused before any processing; the mosaic stays undeveloped when it can.
    """
    from app.core.io import save_image

    dng = opts.format == "dng"
    kind = dng_kind_for(source, steps) if dng else ""
    result = render_full(source, steps, ctx.sub(0.0, 0.95), develop=not dng)
    if dng:
        result = with_measured_noise(source, result)
    ctx.check_cancelled()
    ctx.progress(0.96, f"Saving {out.name}")
    path = save_image(result, out, format=opts.format, quality=opts.quality, overwrite=opts.overwrite,
                      keep_metadata=opts.keep_metadata, protect=tuple(str(p) for p in protect),
                      compress=opts.compress)
    ctx.progress(1.0, f"Saved {Path(path).name}" + (f" ({kind})" if kind else ""))
    return Path(path)


def export_file(source_path: str | os.PathLike[str], steps: Sequence[Step], out: Path, opts: ExportOptions,
                ctx: RunContext) -> Path:
    """Batch item: open ``source_path`` (full resolution, the one RAW policy), render and save."""
    ctx.progress(0.0, f"Decoding {Path(source_path).name}")
    image = open_photo(source_path)
    ctx.check_cancelled()
    return export_image(image, steps, out, opts, ctx.sub(0.1, 1.0), protect=(source_path,))
