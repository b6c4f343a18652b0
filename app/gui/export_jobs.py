"""Full-resolution export and batch export: core calls run on the worker thread (no widgets).

The pipeline runs on the full-resolution source without the interactive cache (a 24-MP
intermediate would only evict the preview results), ops tile themselves, and
``save_image`` writes atomically and refuses to overwrite the input photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.context import RunContext
from app.core.image import Image
from app.core.pipeline import Pipeline, StageCache, Step

#: (label, save_image format, extension, bit depth)
FORMATS: tuple[tuple[str, str, str, int], ...] = (
    ("JPEG", "jpg", ".jpg", 8),
    ("PNG", "png", ".png", 8),
    ("PNG", "png16", ".png", 16),
    ("TIFF", "tiff16", ".tif", 16),
    ("DNG (RAW)", "dng", ".dng", 16),  # RAW photos only: the processed RAW for the user's RAW developer
)
RASTER_EXTS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}
RAW_EXTS = {".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".raf", ".orf", ".rw2", ".pef",
            ".srw", ".kdc", ".dcr", ".mrw", ".3fr", ".erf", ".mef", ".mos", ".raw", ".rwl", ".iiq", ".x3f"}
PHOTO_EXTS = RASTER_EXTS | RAW_EXTS
#: the file dialogs' filter for every photo type we open
OPEN_FILTER = "Photos ({});;All files (*)".format(" ".join(f"*{e} *{e.upper()}" for e in sorted(PHOTO_EXTS)))


@dataclass(frozen=True)
class ExportOptions:
    """What the export dialog collected.

    Attributes:
        format: a ``save_image`` format: "jpg", "png", "png16", "tiff16" or "dng".
        quality: JPEG quality 1-100.
        keep_metadata: carry EXIF over (orientation reset) and embed sRGB ICC.
        overwrite: replace an existing *output* file (an input photo is never replaced).
    """

    format: str = "jpg"
    quality: int = 92
    keep_metadata: bool = True
    overwrite: bool = False

    @property
    def extension(self) -> str:
        return next(ext for _, fmt, ext, _ in FORMATS if fmt == self.format)


def is_photo(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in PHOTO_EXTS and not path.name.startswith(".")


def photos_in(folder: str | Path) -> list[Path]:
    """Photos directly inside ``folder``, sorted by name."""
    return sorted((p for p in Path(folder).iterdir() if is_photo(p)), key=lambda p: p.name.lower())


def output_path(source: str | Path, folder: str | Path, opts: ExportOptions,
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


def export_image(source: Image, steps: Sequence[Step], out: Path, opts: ExportOptions, ctx: RunContext,
                 *, protect: Sequence[str | Path] = ()) -> Path:
    """Process ``source`` at full resolution and save it; returns the written path."""
    from app.core.io import save_image

    dng = opts.format == "dng"
    if dng:
        from app.core.io.dng import dng_kind

        dng_kind(source)  # a non-RAW photo: its one-line error before the processing, nothing written
    result = Pipeline(StageCache(0)).run(source, list(steps), ctx.sub(0.0, 0.95), use_cache=False,
                                         develop=not dng)  # fmt: skip
    ctx.check_cancelled()
    ctx.progress(0.96, f"Saving {out.name}")
    path = save_image(result, out, format=opts.format, quality=opts.quality, overwrite=opts.overwrite,
                      keep_metadata=opts.keep_metadata, protect=tuple(str(p) for p in protect))
    ctx.progress(1.0, f"Saved {Path(path).name}" + (f" ({dng_kind(result)})" if dng else ""))
    return Path(path)


def export_file(source_path: str | Path, steps: Sequence[Step], out: Path, opts: ExportOptions,
                ctx: RunContext) -> Path:
    """Batch item: decode ``source_path`` (full resolution), process and save."""
    from app.core.io import load_image

    ctx.progress(0.0, f"Decoding {Path(source_path).name}")
    image = load_image(str(source_path), raw_as="bayer")
    ctx.check_cancelled()
    return export_image(image, steps, out, opts, ctx.sub(0.1, 1.0), protect=(source_path,))
