"""Decode-once image cache for the patch samplers.

Decoding dominates a naive loader: a 6000-px JPEG takes ~0.5 s, while the patch cut from it costs
microseconds. :class:`ImageCache` keeps decoded images as ``uint8`` (4x smaller than float32) in an LRU
bounded by bytes, and shrinks huge *clean* sources on decode (JPEG DCT-domain reduction, then area
resampling). Noisy inputs and their references are never resampled: that would change the noise.

Each DataLoader worker process owns its cache (``persistent_workers=True`` keeps it alive).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def decode_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Decode an image to ``(H, W, 3)`` RGB, downscaled so its long side is at most ``max_side``.

    Args:
        path: image file (anything OpenCV reads; grey images are expanded to three channels).
        max_side: long-side limit in pixels; None keeps the native size.

    Returns:
        ``uint8`` (8-bit sources) or ``uint16`` (16-bit sources) array, EXIF orientation applied.
    """
    path = str(path)
    flag = cv2.IMREAD_UNCHANGED
    factor = 1
    if max_side:
        with Image.open(path) as im:
            long_side = max(im.size)
        # Let the JPEG decoder drop DCT coefficients (2/4/8x faster) but stay above the target size,
        # so the final area resampling still anti-aliases.
        while factor * 2 in _REDUCED and long_side / (factor * 2) >= max_side:
            factor *= 2
        if factor > 1:
            flag = _REDUCED[factor]
    img = cv2.imread(path, flag)
    if img is None:
        raise OSError(f"could not decode {path}")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if max_side and max(img.shape[:2]) > max_side:
        scale = max_side / max(img.shape[:2])
        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


class ImageCache:
    """LRU of decoded images bounded by total bytes.

    Args:
        max_bytes: budget; the least recently used images are dropped beyond it (one image larger than
            the budget is still returned, just not kept).

    Attributes:
        hits, misses: counters, for the loader benchmark and tests.
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = int(max_bytes)
        self._data: OrderedDict[tuple[str, int | None], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def get(self, path: str | Path, max_side: int | None = None) -> np.ndarray:
        """The decoded image (read-only view; callers copy what they crop)."""
        key = (str(path), max_side)
        with self._lock:
            img = self._data.get(key)
            if img is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return img
        img = decode_rgb(path, max_side)
        img.setflags(write=False)
        with self._lock:
            self.misses += 1
            if img.nbytes <= self.max_bytes and key not in self._data:
                self._data[key] = img
                self._bytes += img.nbytes
                while self._bytes > self.max_bytes:
                    _, old = self._data.popitem(last=False)
                    self._bytes -= old.nbytes
        return img

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


_SHARED: dict[int, ImageCache] = {}


def shared_cache(max_bytes: int = 1 << 30) -> ImageCache:
    """One cache per process and budget, shared by every dataset built in that process."""
    if max_bytes not in _SHARED:
        _SHARED[max_bytes] = ImageCache(max_bytes)
    return _SHARED[max_bytes]
