"""Per-photo edit sidecars: each photo keeps its own recipe, like darktable's ``.xmp`` files.

The sidecar of ``IMG_0001.CR2`` is ``IMG_0001.CR2.photorestore.json`` beside it (a recipe file, see
:mod:`.recipe`), so the edits travel with the photo when the folder is copied. When the photo's folder
is read-only (a card, a shared drive, a system folder) the sidecar goes to the app's data folder instead,
under ``sidecars/<hash of the photo's absolute path>-<name>.photorestore.json``. Reading takes the newer of the two
when both exist. A photo whose edits are all off has no sidecar (it is removed).
The caller (GUI, batch) passes the data folder: the core does not know where the app keeps its files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from app.core.pipeline.recipe import Recipe, RecipeError

SUFFIX = ".photorestore.json"


def beside(photo: str | os.PathLike[str]) -> Path:
    """``IMG_0001.CR2`` -> ``IMG_0001.CR2.photorestore.json`` in the same folder."""
    p = Path(photo)
    return p.with_name(p.name + SUFFIX)


def in_data_dir(photo: str | os.PathLike[str], data_dir: str | os.PathLike[str]) -> Path:
    """The data-folder sidecar of ``photo`` (for photos in read-only folders)."""
    p = Path(photo).resolve()
    digest = hashlib.sha1(str(p).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(data_dir) / "sidecars" / f"{digest}-{p.name}{SUFFIX}"


def is_sidecar(path: str | os.PathLike[str]) -> bool:
    return Path(path).name.endswith(SUFFIX)


def find_sidecar(photo: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The existing sidecar of ``photo``, or None; with both (a read-only folder that came with one, then
    edited here), the newer one."""
    found = [p for p in (beside(photo), in_data_dir(photo, data_dir) if data_dir is not None else None)
             if p is not None and p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def load_sidecar(photo: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None) -> Recipe | None:
    """The photo's saved recipe, or None when it has none.

    Raises:
        RecipeError: a sidecar exists but cannot be read (the message names it).
    """
    p = find_sidecar(photo, data_dir)
    return Recipe.load(p) if p is not None else None


def save_sidecar(photo: str | os.PathLike[str], recipe: Recipe,
                 data_dir: str | os.PathLike[str] | None, *, beside_photo: bool = True) -> Path | None:
    """Write ``recipe`` as the photo's sidecar (atomically); with no enabled step, remove it instead.

    ``beside_photo=False`` keeps every sidecar in the data folder (the user's choice for folders they do
    not want written to even when they could be, e.g. a shared library or a dataset).

    Returns:
        The file written, or None when the photo now has no sidecar.

    Raises:
        OSError: neither the photo's folder nor the data folder could take the file.
    """
    steps = [s for s in recipe.steps if s.enabled]
    if not steps:
        for p in (beside(photo), in_data_dir(photo, data_dir) if data_dir is not None else None):
            if p is not None and p.is_file():
                try:
                    p.unlink()
                except OSError:
                    pass  # a read-only folder keeps a stale file; the data folder copy is gone first
        return None
    target = beside(photo)
    clean = Recipe(steps, recipe.name)
    if beside_photo and os.access(target.parent, os.W_OK):
        try:
            clean.save(target)
            stale = in_data_dir(photo, data_dir) if data_dir is not None else None
            if stale is not None and stale.is_file():
                stale.unlink()  # the folder became writable: one sidecar, beside the photo
            return target
        except OSError:
            pass
    if data_dir is None:
        raise OSError(f"cannot write {target.name}: {target.parent} is read-only and no data folder was given")
    fallback = in_data_dir(photo, data_dir)
    fallback.parent.mkdir(parents=True, exist_ok=True)
    clean.save(fallback)
    return fallback


__all__ = ["SUFFIX", "RecipeError", "beside", "find_sidecar", "in_data_dir", "is_sidecar", "load_sidecar",
           "save_sidecar"]
