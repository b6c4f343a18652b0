"""Patch samplers over the clean sets and the real pairs.

Every sample is a pure function of ``(seed, epoch, index)``: the sampler (:mod:`app.train.loader`)
yields ``(epoch, index)`` keys and the dataset seeds a fresh ``numpy.random.Generator`` from them for
the crop, the flip/rotation and the degradation. Which process (main or worker) computes a sample,
and how many batches were prefetched, therefore never changes the data, and a resumed run sees
exactly the batches the uninterrupted run would.

Samples are dicts of tensors: ``lq`` (the degraded input) and ``gt`` (the target), ``(C, H, W)`` float32
in [0, 1], plus any kept degradation info (e.g. ``ratio`` for low light).

Run ``python -m app.train.datasets --bench`` to compare loader throughput with the model's step time.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from app.train.gopro import average_frames
from app.train.imcache import shared_cache
from app.train.patches import centre_crop, crop_same, random_dihedral, to_float, to_tensor
from app.train.sources import Item

#: ``degrade(clean HxWx3 float32 sRGB, rng) -> (degraded, target, info)`` (see ``app.train.degrade``).
Degradation = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray, dict]]
Key = tuple[int, int]


def sample_rng(seed: int, salt: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one sample; SeedSequence mixes the four integers into independent streams."""
    return np.random.default_rng([seed & 0xFFFFFFFF, salt & 0xFFFFFFFF, epoch, index])


@contextlib.contextmanager
def single_torch_thread() -> Iterator[None]:
    """Run the block with one torch thread, then restore the count (costs under a microsecond).

    Degradations run torch on single small patches; with ``num_workers=0`` they would inherit the
    training loop's threads, and two OpenMP threads on a tiny tensor mostly wait on each other (on a
    busy 2-core machine the bench measured a 7x slower loader).
    """
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


class PatchDataset(Dataset):
    """Base sampler: maps an ``(epoch, index)`` key to ``self.sample(item, rng)``.

    Args:
        items: what to sample from; sample ``index`` uses ``items[index % len(items)]``, so an epoch of
            ``length`` samples visits every item ``length / len(items)`` times.
        patch: output patch edge in pixels.
        length: samples per epoch (default: one per item).
        seed: run seed; ``salt`` separates datasets mixed in one run.
        augment: random flip/rotation (train); off for validation.
        random_crop: random crop position; off -> centred.
        cache_mb: per-process decoded-image cache budget.
    """

    def __init__(self, items: Sequence, *, patch: int, length: int | None = None, seed: int = 0,
                 salt: int = 0, augment: bool = True, random_crop: bool = True, cache_mb: int = 1024) -> None:
        if not items:
            raise ValueError(f"{type(self).__name__}: no items (is the data on disk and in splits.json?)")
        self.items = list(items)
        self.patch = int(patch)
        self.length = int(length or len(self.items))
        self.seed, self.salt = int(seed), int(salt)
        self.augment, self.random_crop = augment, random_crop
        self.cache_bytes = int(cache_mb) << 20

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: Key | int) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, int(key))
        rng = sample_rng(self.seed, self.salt, epoch, index)
        with single_torch_thread():
            return self.sample(self.items[index % len(self.items)], rng)

    def _image(self, path: Path, max_side: int | None = None, min_side: int = 0) -> np.ndarray:
        img = shared_cache(self.cache_bytes).get(path, max_side)
        if min(img.shape[:2]) < min_side:
            # Rare tiny photos: upsample rather than drop them, so the item list stays what the split says.
            scale = min_side / min(img.shape[:2])
            img = cv2.resize(img, (max(min_side, round(img.shape[1] * scale)),
                                   max(min_side, round(img.shape[0] * scale))), interpolation=cv2.INTER_CUBIC)
        return img

    def _crop(self, arrays: list[np.ndarray], size: int, rng: np.random.Generator) -> list[np.ndarray]:
        crops = crop_same(arrays, size, rng if self.random_crop else None)
        return random_dihedral(crops, rng) if self.augment else crops

    def sample(self, item, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def image_keys(self) -> list[tuple[Path, int | None]]:
        """Every ``(path, max_side)`` this sampler decodes (to prime the cache)."""
        return [(p, None) for it in self.items for p in it.paths]


class CleanPatches(PatchDataset):
    """Crops of clean photos, degraded on the fly.

    Args:
        items: clean :class:`Item` s.
        degrade: the degradation; None returns ``lq == gt`` (for tasks that degrade on the device).
        max_side: clean photos are shrunk to this long side on decode (also removes their own noise).
        keep_info: keys of the degradation's ``info`` to return as tensors (numbers or arrays).
        **kwargs: :class:`PatchDataset` options.

    A degradation that needs context (blur kernels) may set ``margin``: the crop is then ``patch + 2 *
    margin`` wide and its outputs are centre-cropped back to the patch (scaled, for RAW outputs).
    """

    def __init__(self, items: Sequence[Item], *, degrade: Degradation | None = None,
                 max_side: int | None = 1600, keep_info: Sequence[str] = (), **kwargs) -> None:
        super().__init__(items, **kwargs)
        self.degrade, self.max_side, self.keep_info = degrade, max_side, tuple(keep_info)

    def image_keys(self) -> list[tuple[Path, int | None]]:
        return [(it.paths[0], self.max_side) for it in self.items]

    def sample(self, item: Item, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        margin = int(getattr(self.degrade, "margin", 0))
        size = self.patch + 2 * margin
        [crop] = self._crop([self._image(item.paths[0], self.max_side, size)], size, rng)
        clean = to_float(crop)
        if self.degrade is None:
            return {"lq": to_tensor(clean), "gt": to_tensor(clean)}
        lq, gt, info = self.degrade(clean, rng)
        if margin:
            lq = centre_crop(lq, round(self.patch * lq.shape[0] / size))
            gt = centre_crop(gt, round(self.patch * gt.shape[0] / size))
        out = {"lq": to_tensor(lq), "gt": to_tensor(gt)}
        for k in self.keep_info:
            v = info[k]
            is_map = isinstance(v, np.ndarray) and v.ndim >= 2
            out[k] = to_tensor(v) if is_map else torch.tensor(v, dtype=torch.float32)
        return out


class PairPatches(PatchDataset):
    """Aligned crops of real (degraded, reference) pairs, e.g. PolyU; never resampled."""

    def sample(self, item: Item, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        lq, gt = self._crop([self._image(p) for p in item.paths[:2]], self.patch, rng)
        return {"lq": to_tensor(lq), "gt": to_tensor(gt)}


class ExposurePairs(PatchDataset):
    """Real low/normal-light pairs from SICE tripod sequences.

    The reference is the frame whose mean luma is closest to ``target_luma`` inside ``ref_luma``; inputs
    are frames at least ``min_ratio`` times darker. Sequences without such a pair are left out. Each sample
    also returns ``ratio`` (reference luma / input luma), the brightening a low-light model must apply.
    """

    def __init__(self, items: Sequence[Item], *, ref_luma: tuple[float, float] = (90.0, 140.0),
                 target_luma: float = 115.0, min_ratio: float = 2.0, **kwargs) -> None:
        pairs = []
        for it in items:
            refs = [i for i, v in enumerate(it.lumas) if ref_luma[0] <= v <= ref_luma[1]]
            if not refs:
                continue
            ref = min(refs, key=lambda i: abs(it.lumas[i] - target_luma))
            darks = tuple(i for i, v in enumerate(it.lumas) if v * min_ratio <= it.lumas[ref])
            if darks:
                pairs.append((it, ref, darks))
        super().__init__(pairs, **kwargs)

    def image_keys(self) -> list[tuple[Path, int | None]]:
        return [(it.paths[i], None) for it, ref, darks in self.items for i in (ref, *darks)]

    def sample(self, pair: tuple[Item, int, tuple[int, ...]],
               rng: np.random.Generator) -> dict[str, torch.Tensor]:
        item, ref, darks = pair
        dark = darks[int(rng.integers(0, len(darks)))]
        lq, gt = self._crop([self._image(item.paths[dark]), self._image(item.paths[ref])], self.patch, rng)
        ratio = item.lumas[ref] / max(item.lumas[dark], 1e-3)
        return {"lq": to_tensor(lq), "gt": to_tensor(gt), "ratio": torch.tensor(ratio, dtype=torch.float32)}


class BlurFrames(PatchDataset):
    """Real motion blur from consecutive GoPro frames: ``lq`` = mean of ``n`` frames, ``gt`` = middle one.

    The averaging (in linear light) is :func:`app.train.gopro.average_frames`; this sampler adds the
    decode-once cache, the split's frame range and aligned random crops.

    Args:
        frames: frame paths of one split, in temporal order.
        n_range: inclusive range of window lengths; only odd ``n`` are drawn so a middle frame exists.
        max_side: optional downscale of the frames (halving also halves the blur length).
        **kwargs: :class:`PatchDataset` options.
    """

    def __init__(self, frames: Sequence[Path], *, n_range: tuple[int, int] = (5, 15),
                 max_side: int | None = None, **kwargs) -> None:
        self.lengths = [n for n in range(n_range[0], n_range[1] + 1) if n % 2 == 1]
        if len(frames) < max(self.lengths):
            raise ValueError(f"{len(frames)} frames cannot hold a {max(self.lengths)}-frame window")
        self.frames, self.max_side = list(frames), max_side
        # Items are window start positions that fit the longest window; shorter windows shift randomly.
        super().__init__(list(range(len(frames) - max(self.lengths) + 1)), **kwargs)

    def image_keys(self) -> list[tuple[Path, int | None]]:
        return [(p, self.max_side) for p in self.frames]

    def sample(self, start: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        n = self.lengths[int(rng.integers(0, len(self.lengths)))]
        start += int(rng.integers(0, max(self.lengths) - n + 1))
        imgs = [self._image(p, self.max_side) for p in self.frames[start : start + n]]
        # Average only the crops (not whole frames): the same pixels at a fraction of the cost.
        blurred, sharp = average_frames([to_float(c) for c in self._crop(imgs, self.patch, rng)])
        return {"lq": to_tensor(blurred), "gt": to_tensor(sharp)}


class MixedDataset(Dataset):
    """Several samplers in one epoch, in proportion to their weights.

    Each part gets ``round(length * weight / total)`` slots of the epoch; slot ``i`` of part ``k`` is that
    part's sample ``(epoch, i)``. Parts should have distinct ``salt`` values so their streams differ.
    """

    def __init__(self, parts: Sequence[PatchDataset], weights: Sequence[float], length: int) -> None:
        total = float(sum(weights))
        counts = [max(1, round(length * w / total)) for w in weights]
        self.parts = list(parts)
        self.starts = np.cumsum([0, *counts]).tolist()
        self.sources: list[str] = []  # source names of the parts, for model cards (set by the builder)

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, key: Key | int) -> dict[str, torch.Tensor]:
        epoch, index = key if isinstance(key, tuple) else (0, int(key))
        k = bisect.bisect_right(self.starts, index) - 1
        return self.parts[k][(epoch, index - self.starts[k])]


def parts_of(dataset: Dataset) -> list[PatchDataset]:
    """The samplers inside a (possibly mixed) dataset."""
    return list(dataset.parts) if isinstance(dataset, MixedDataset) else [dataset]


def prime_cache(dataset: Dataset) -> int:
    """Decode every image of ``dataset`` into this process's cache; returns the bytes cached.

    Call it before the loader forks its worker and the worker inherits the decoded images
    (copy-on-write), so even the first epoch runs at cached speed.
    """
    caches = {}
    for part in parts_of(dataset):
        cache = caches.setdefault(part.cache_bytes, shared_cache(part.cache_bytes))
        for path, max_side in part.image_keys():
            cache.get(path, max_side)
    return sum(c.nbytes for c in caches.values())
