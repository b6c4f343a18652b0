"""(sRGB, packed RAW) pairs for the learned camera pipeline (CycleISP RGB2RAW / RAW2RGB).

Two kinds:

* **Real**: every Bayer RAW in ``raw/bayer`` of the datasets (but the non-commercial Kodak KDC), its
  normalised RGGB mosaic (exactly what the app's RAW loader hands the ops) against LibRaw's development
  of the same file with the app's settings (:data:`app.core.io.develop.DEVELOP_SETTINGS`, orientation
  not applied, so pixels line up). With three cameras there is no by-scene split to make; each file is
  split by columns instead: the left 70 % trains, the right 25 % validates, a 5 % gap keeps training
  crops from touching validation ones.
* **Synthetic**: clean photos unprocessed by a random camera (:class:`UnprocessPair`), the CycleISP
  recipe, so the nets also see the scene and camera variety the three files lack.

Developments are cached as float16 ``.npz`` under ``~/.cache/photorestore/isp_pairs`` (keyed by the file
and the develop settings), because LibRaw's AHD takes seconds per file.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.core.isp.color import XYZ_TO_CAM, rgb_to_cam_matrix
from app.core.isp.mosaic import pack_rggb_np
from app.core.isp.synthetic_camera import IspParams, sample_isp_params, unprocess_np
from app.train.datasets import PatchDataset
from app.train.patches import to_tensor
from app.train.raw_pairs import pad_even
from app.train.sources import Source, datasets_root

log = logging.getLogger("photorestore.train")

__all__ = ["RawFilePatches", "UnprocessPair", "nominal_camera", "raw_files", "real_pair"]

#: column fractions of each RAW file: [0, TRAIN_END) trains, [VAL_START, 1) validates
TRAIN_END, VAL_START = 0.70, 0.75
_RAW_SUFFIXES = {".cr2", ".nef", ".arw", ".dng", ".kdc", ".orf", ".rw2", ".raf", ".pef", ".srw"}
#: files whose licence is non-commercial (datasets README): left out of training so the weights stay GPL
NC_FILES = frozenset({"rawpy-test_RAW_KODAK_DC50.KDC"})
#: what a model card says about the RAW files it trained on
RAW_SOURCE = Source("raw_bayer", "raw_files", "raw/bayer",
                    "GPL-3+ (Canon EOS 30D CR2, Debian rawtran-doc), MIT (Canon 550D DNG, tinydng), none stated "
                    "(Blackmagic DNG); the CC BY-NC-SA Kodak KDC is left out")


@functools.cache
def nominal_camera() -> IspParams:
    """The average synthetic camera: mean of the colour matrices, mid white balance and brightness.

    The parametric pipeline has to assume *some* camera when it does not know the real one; this is the
    centre of what :func:`app.core.isp.synthetic_camera.sample_isp_params` draws.
    """
    xyz_to_cam = np.mean([m for m in XYZ_TO_CAM.values()], axis=0)
    return IspParams(rgb_to_cam_matrix(xyz_to_cam), 2.15, 1.7, 1.0 / 0.8, True)


def raw_files(root: Path | None = None, *, include_nc: bool = False) -> list[Path]:
    """The Bayer RAW files of the datasets, sorted; non-commercial ones only with ``include_nc``."""
    folder = (root or datasets_root()) / "raw" / "bayer"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in _RAW_SUFFIXES and (include_nc or p.name not in NC_FILES))


def _cache_dir() -> Path:
    return Path.home() / ".cache" / "photorestore" / "isp_pairs"


def _develop_pair(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import rawpy

    from app.core.io.develop import DEVELOP_SETTINGS
    from app.core.io.raw import decode_bayer, read_raw_tags

    with rawpy.imread(str(path)) as raw:
        image = decode_bayer(path, raw, read_raw_tags(path))
        srgb16 = raw.postprocess(**DEVELOP_SETTINGS, user_flip=0)
    assert image.raw is not None
    mosaic = image.data[..., 0]
    h, w = mosaic.shape
    dy, dx = image.raw.crop_offset
    srgb = srgb16[dy : dy + h, dx : dx + w].astype(np.float32) / np.float32(65535)
    if srgb.shape[:2] != (h, w):
        raise ValueError(f"{path.name}: development {srgb16.shape[:2]} does not cover the mosaic {(h, w)}")
    return srgb, pack_rggb_np(mosaic)


def real_pair(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(srgb (H, W, 3), packed RGGB (H/2, W/2, 4))`` float32 of one RAW file (cached)."""
    from app.core.io.develop import DEVELOP_SETTINGS

    stat = path.stat()
    key = hashlib.sha256(f"{path.name}:{stat.st_size}:{sorted(map(str, DEVELOP_SETTINGS.items()))}".encode())
    cached = _cache_dir() / f"{path.stem}-{key.hexdigest()[:12]}.npz"
    if not cached.exists():
        srgb, packed = _develop_pair(path)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        np.savez(tmp, srgb=srgb.astype(np.float16), raw=packed.astype(np.float16))
        tmp.replace(cached)
    # Always from the file, so a first run sees the same (float16-rounded) values as every later one.
    with np.load(cached) as z:
        return z["srgb"].astype(np.float32), z["raw"].astype(np.float32)


def split_columns(width: int, split: str) -> tuple[int, int]:
    """``[x0, x1)`` (even) of a ``width``-px image that ``split`` may crop from."""
    if split == "train":
        return 0, int(width * TRAIN_END) // 2 * 2
    if split == "val":
        return int(np.ceil(width * VAL_START / 2)) * 2, width // 2 * 2
    raise ValueError(f"split must be 'train' or 'val', got {split!r}")


class RawFilePatches(PatchDataset):
    """Aligned crops of real (sRGB, packed RAW) pairs: ``lq`` sRGB ``(3, p, p)``, ``gt`` RAW ``(4, p/2, p/2)``.

    Crops start on even pixels and are never flipped or rotated: either would change the Bayer phase.
    """

    source = RAW_SOURCE
    split_note = f"columns split per file (train < {TRAIN_END:.0%} of the width, validation >= {VAL_START:.0%})"

    def __init__(self, files: Sequence[Path], *, split: str, **kwargs: Any) -> None:
        kwargs["augment"] = False
        super().__init__(list(files), **kwargs)
        if self.patch % 2:
            raise ValueError("RAW patches must be even (whole 2x2 Bayer cells)")
        self.split = split
        self._pairs: dict[Path, tuple[np.ndarray, np.ndarray]] = {}

    def _pair(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if path not in self._pairs:
            self._pairs[path] = real_pair(path)
        return self._pairs[path]

    def image_keys(self) -> list[tuple[Path, int | None]]:
        return []  # not decoded through the shared image cache (see _pair)

    def sample(self, path: Path, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        srgb, packed = self._pair(path)
        h, w = srgb.shape[:2]
        x0, x1 = split_columns(w, self.split)
        p = self.patch
        if x1 - x0 < p or h < p:
            raise ValueError(f"{path.name}: the {self.split} region ({x1 - x0} x {h}) is smaller than a {p}-px patch")
        if self.random_crop:
            y = int(rng.integers(0, (h - p) // 2 + 1)) * 2
            x = x0 + int(rng.integers(0, (x1 - x0 - p) // 2 + 1)) * 2
        else:
            y, x = (h - p) // 4 * 2, x0 + (x1 - x0 - p) // 4 * 2
        return {"lq": to_tensor(srgb[y : y + p, x : x + p]),
                "gt": to_tensor(packed[y // 2 : (y + p) // 2, x // 2 : (x + p) // 2])}


@dataclass
class UnprocessPair:
    """Clean sRGB -> (the sRGB, its packed RAW under a random synthetic camera): CycleISP's synthetic pairs."""

    def __call__(self, clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        padded, crop = pad_even(clean)
        isp = sample_isp_params(rng)
        return padded, unprocess_np(padded, isp), {"isp": isp.to_dict()}
