"""Fit the NIQE pristine model on our own clean photos: ``python -m app.train.fit_niqe``.

Which images: the photos under ``<datasets>/clean/`` (sunhays80, urban100, live1, cycleisp_samples,
package_samples) that the project's recorded split (``app/train/splits.json``, by scene) puts in
*train*; the *validation* photos are held out, so tests and benchmarks score NIQE on clean photos
the model has never seen. (Without ``app.train`` the hold-out falls back to
``crc32(relative path) % 5 == 0``.) Also left out: photos with visible JPEG blocking (8x8 boundary
ratio >= ``analysis.BLOCKY_RATIO``: most of sunhays80 was JPEG-compressed before it became
lossless WebP, and NIQE's pristine model must not learn blocking as natural). Per image, patches
whose sharpness is at least 75 % of the image's
sharpest patch are pristine (the paper's rule). The MVG mean/covariance, the patch size and the
lists of fitted and held-out images are written to ``niqe_params.npz`` next to this file (a few
kB, committed). Refit whenever the feature code in ``niqe.py`` changes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from app.core.metrics.niqe import PARAMS_PATH, PATCH, SHARPNESS_FRACTION, patch_features

_EXTS = {".webp", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
HOLDOUT_MODULUS = 5


def datasets_root() -> Path:
    """``$PHOTORESTORE_DATASETS`` or ``../shared/datasets`` next to the repository."""
    env = os.environ.get("PHOTORESTORE_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def holdout_set(rels: list[str], root: Path) -> tuple[set[str], str]:
    """The clean photos NIQE is never fitted on, and how they were chosen."""
    try:
        from app.train.sources import SOURCES
        from app.train.splits import load_splits

        splits = load_splits()
        held = set()
        for name, src in SOURCES.items():
            on_disk = not src.rel.startswith("wallpaper:")
            if src.kind == "clean" and on_disk and name in splits.data["sources"]:
                held |= {it.paths[0].resolve().relative_to(root.resolve()).as_posix()
                         for it in splits.items(name, "val")}
        return held & set(rels), "validation split of app/train/splits.json"
    except (ImportError, KeyError, OSError, ValueError):
        return {r for r in rels if zlib.crc32(r.encode()) % HOLDOUT_MODULUS == 0}, "crc32(path) % 5 == 0"


def clean_images(root: Path | None = None) -> list[str]:
    """Relative paths (``clean/<set>/<file>``) of every clean photo, sorted."""
    base = (root or datasets_root())
    files = [p for p in (base / "clean").rglob("*") if p.suffix.lower() in _EXTS and p.is_file()]
    return sorted(p.relative_to(base).as_posix() for p in files)


def load_srgb(path: Path) -> np.ndarray:
    """An image file as float32 ``(H, W, 3)`` sRGB in [0, 1]."""
    with PILImage.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def is_blocky(img: np.ndarray) -> bool:
    """True for photos with visible JPEG blocking (kept out of the pristine set)."""
    from app.core.metrics.analysis import BLOCKY_RATIO
    from app.core.metrics.estimators import jpeg_blockiness, luma

    return jpeg_blockiness(luma(img))[0] >= BLOCKY_RATIO


def fit(paths: Iterable[Path], *, patch: int = PATCH, verbose: bool = True) -> dict[str, np.ndarray]:
    """Fit the pristine MVG on the sharp patches of ``paths`` (blocky or small photos skipped).

    Returns:
        dict with ``mu``, ``cov``, ``n_patches`` and ``used`` (file names) for :func:`numpy.savez`.
    """
    feats, used = [], []
    for p in paths:
        img = load_srgb(p)
        if min(img.shape[:2]) < 2 * patch or is_blocky(img):
            continue
        f, sharp = patch_features(img, patch)
        keep = (sharp >= SHARPNESS_FRACTION * sharp.max()) & np.all(np.isfinite(f), axis=1)
        feats.append(f[keep])
        used.append(p)
        if verbose:
            print(f"  {p.name}: {int(keep.sum())}/{len(f)} patches", file=sys.stderr)
    allf = np.concatenate(feats)
    return {"mu": allf.mean(axis=0), "cov": np.cov(allf, rowvar=False), "n_patches": np.int64(len(allf)),
            "used": used}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=None, help="datasets root (default: ../shared/datasets)")
    ap.add_argument("--out", type=Path, default=PARAMS_PATH)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    root = args.datasets or datasets_root()
    rels = clean_images(root)
    if not rels:
        print(f"no clean images under {root / 'clean'}", file=sys.stderr)
        return 1
    held_set, how = holdout_set(rels, root)
    fitted = [r for r in rels if r not in held_set]
    held = [r for r in rels if r in held_set]
    t0 = time.monotonic()
    params = fit((root / r for r in fitted), verbose=not args.quiet)
    used = {p.relative_to(root).as_posix() for p in params.pop("used")}
    images = [r for r in fitted if r in used]
    skipped = [r for r in fitted if r not in used]
    np.savez_compressed(args.out, **params, patch=np.int64(PATCH), sharpness_fraction=SHARPNESS_FRACTION,
                        images=np.array(images), skipped=np.array(skipped), holdout=np.array(held),
                        holdout_rule=np.array(how))
    print(f"NIQE model: {params['n_patches']} pristine patches from {len(images)} images; skipped "
          f"{len(skipped)} (JPEG-blocky or < {2 * PATCH} px); {len(held)} held out ({how}); "
          f"{time.monotonic() - t0:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
