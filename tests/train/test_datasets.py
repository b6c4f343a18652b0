"""Samplers and loader: deterministic per (seed, epoch, index), resumable, aligned, cached."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import torch

from app.train.datasets import (
    BlurFrames,
    CleanPatches,
    ExposurePairs,
    MixedDataset,
    PairPatches,
    prime_cache,
)
from app.train.imcache import ImageCache, decode_rgb, shared_cache
from app.train.loader import ResumableSampler, build_loader, materialize
from app.train.splits import load_splits
from app.train.tasks.tiny_test import GaussianNoise

# Reads ../shared/datasets (skipped where it is absent).
pytestmark = pytest.mark.usefixtures("datasets_dir")


@pytest.fixture(scope="module")
def splits():
    return load_splits()


@pytest.fixture(scope="module")
def clean(splits):
    return CleanPatches(splits.items("live1", "train"), degrade=GaussianNoise(), patch=32, length=40, seed=3,
                        max_side=512, cache_mb=64)


def _as_u8(t: torch.Tensor) -> np.ndarray:
    return (t.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _found_in(image: np.ndarray, patch: np.ndarray) -> tuple[int, int] | None:
    """Where ``patch`` occurs exactly in ``image`` (best match verified pixel for pixel), else None."""
    scores = cv2.matchTemplate(image, patch, cv2.TM_SQDIFF)  # FFT-based: only approximately 0
    y, x = np.unravel_index(np.argmin(scores), scores.shape)
    h, w = patch.shape[:2]
    return (y, x) if np.array_equal(image[y:y + h, x:x + w], patch) else None


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_sample_is_a_function_of_seed_epoch_and_index(clean):
    a = clean[(2, 7)]
    assert a["lq"].shape == a["gt"].shape == (3, 32, 32) and a["lq"].dtype == torch.float32
    assert _same(a, clean[(2, 7)])
    assert not torch.equal(a["lq"], clean[(3, 7)]["lq"])  # a new epoch draws new crops and noise
    assert not torch.equal(a["lq"], clean[(2, 8)]["lq"])
    assert 0.0 <= float(a["lq"].min()) and float(a["lq"].max()) <= 1.0


def test_sampler_permutes_each_epoch_and_resumes_mid_stream():
    keys = list(itertools.islice(iter(ResumableSampler(10, seed=1)), 30))
    for e in range(3):
        assert sorted(i for ep, i in keys[e * 10:(e + 1) * 10] if ep == e) == list(range(10))
    assert keys[:10] != keys[10:20]
    resumed = list(itertools.islice(iter(ResumableSampler(10, seed=1, start=13)), 17))
    assert resumed == keys[13:]


def test_loader_resumed_at_a_step_yields_the_same_batches(clean):
    full = list(itertools.islice(iter(build_loader(clean, batch=4, seed=5)), 6))
    tail = list(itertools.islice(iter(build_loader(clean, batch=4, seed=5, start_step=4)), 2))
    assert all(_same(a, b) for a, b in zip(full[4:], tail))


def test_worker_process_gives_identical_batches(clean):
    main = list(itertools.islice(iter(build_loader(clean, batch=4, seed=2)), 3))
    worker = list(itertools.islice(iter(build_loader(clean, batch=4, seed=2, num_workers=1)), 3))
    assert all(_same(a, b) for a, b in zip(main, worker))


def test_validation_samples_are_fixed_and_batched(splits):
    val = CleanPatches(splits.items("live1", "val"), degrade=GaussianNoise(), patch=48, length=5, seed=9,
                       augment=False, max_side=512)
    a, b = materialize(val, batch=2), materialize(val, batch=2)
    assert [x["lq"].shape[0] for x in a] == [2, 2, 1]
    assert all(_same(x, y) for x, y in zip(a, b))


def test_real_pairs_are_cropped_at_the_same_place(splits):
    items = splits.items("polyu", "train")
    pairs = PairPatches(items, patch=64, seed=0, augment=False)
    s = pairs[(0, 3)]
    noisy, ref = (decode_rgb(p) for p in items[3].paths)
    # Locate the reference crop in the full reference: the noisy crop must be the same window.
    where = _found_in(ref, _as_u8(s["gt"]))
    assert where is not None
    y, x = where
    np.testing.assert_array_equal(_as_u8(s["lq"]), noisy[y:y + 64, x:x + 64])


def test_exposure_pairs_are_darker_inputs_with_their_ratio(splits):
    ds = ExposurePairs(splits.items("sice", "val"), patch=64, seed=0)
    assert 0 < len(ds.items) <= len(splits.items("sice", "val"))
    for i in range(4):
        s = ds[(0, i)]
        assert s["ratio"] >= 2.0
        assert float(s["lq"].mean()) < float(s["gt"].mean())


def test_blur_frames_average_a_window_around_the_sharp_frame(splits):
    frames = splits.gopro_frames("val")
    ds = BlurFrames(frames, n_range=(5, 7), patch=64, seed=0, augment=False)
    s = ds[(0, 0)]
    assert s["lq"].shape == s["gt"].shape == (3, 64, 64)
    assert not torch.equal(s["lq"], s["gt"])
    # The target is a crop of a real frame from the start of the split (window start 0 .. 2, n <= 7).
    assert any(_found_in(decode_rgb(f), _as_u8(s["gt"])) is not None for f in frames[:9])


def test_mixture_splits_the_epoch_by_weight(splits, clean):
    pairs = PairPatches(splits.items("polyu", "train"), patch=32, seed=0, salt=1)
    mix = MixedDataset([clean, pairs], [3.0, 1.0], length=100)
    assert len(mix) == 100 and mix.starts == [0, 75, 100]
    assert _same(mix[(1, 80)], pairs[(1, 5)])


def test_priming_decodes_every_image_once_for_the_whole_run(splits):
    ds = CleanPatches(splits.items("live1", "val"), patch=32, max_side=300, cache_mb=7)
    held = prime_cache(ds)
    cache = shared_cache(ds.cache_bytes)
    assert held == cache.nbytes > 0 and len(cache) == len(ds.items)
    misses = cache.misses
    for i in range(6):
        ds[(0, i)]
    assert cache.misses == misses


def test_image_cache_is_bounded_and_decodes_once(splits):
    paths = [it.paths[0] for it in splits.items("live1", "train")[:4]]
    one = decode_rgb(paths[0], 256)
    assert max(one.shape[:2]) == 256 and one.dtype == np.uint8
    cache = ImageCache(max_bytes=int(one.nbytes * 2.5))
    for p in paths[:2] + paths[:2]:
        cache.get(p, 256)
    assert (cache.misses, cache.hits) == (2, 2)
    for p in paths:
        cache.get(p, 256)
    assert cache.nbytes <= cache.max_bytes and len(cache) == 2
