"""Fixtures for the metrics tests: validation-split clean photos (never used to fit or calibrate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.metrics.niqe import PARAMS_PATH
from app.train.fit_niqe import is_blocky, load_srgb


def _holdout(datasets_dir: Path, n: int, side: int) -> list[np.ndarray]:
    with np.load(PARAMS_PATH) as z:
        names = [str(s) for s in z["holdout"]]
    out = []
    for rel in names:
        img = load_srgb(datasets_dir / rel)
        if min(img.shape[:2]) < side or np.ptp(img, axis=2).max() == 0 or is_blocky(img):
            continue
        y0, x0 = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        out.append(img[y0:y0 + side, x0:x0 + side].copy())
        if len(out) == n:
            break
    return out


@pytest.fixture(scope="session")
def val_photos(datasets_dir: Path) -> list[np.ndarray]:
    """Three 320x320 centre crops of validation-split clean colour photos without JPEG history."""
    photos = _holdout(datasets_dir, 3, 320)
    if len(photos) < 3:
        pytest.skip("not enough held-out clean photos")
    return photos


@pytest.fixture(scope="session")
def val_photo(val_photos: list[np.ndarray]) -> np.ndarray:
    return val_photos[0]
