"""Real motion blur from high-frame-rate video (the GoPro dataset recipe, Nah et al. 2017).

A long exposure integrates light over time, so averaging ``n`` consecutive 240-fps frames in
*linear* light approximates a blurred shot of ``n / 240`` s; the middle frame is the sharp
reference. Averaging sRGB values instead would darken and desaturate moving edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np

__all__ = ["average_frames", "GoProFrames"]

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


def average_frames(frames: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Blur and sharp images from an odd number of consecutive frames.

    Args:
        frames: ``n`` (odd, >= 1) float32 ``(H, W, 3)`` sRGB frames in [0, 1], in time order.

    Returns:
        ``(blurred, sharp)``: the mean of the frames taken in linear light and re-encoded to sRGB,
        and the middle frame ``frames[n // 2]`` (a copy).
    """
    n = len(frames)
    if n < 1 or n % 2 == 0:
        raise ValueError(f"need an odd number of frames so that one is in the middle, got {n}")
    # Not zeros_like: augmented crops may be transposed views, and ``linear_to_srgb_np(out=)`` needs C order.
    acc = np.zeros(np.shape(frames[0]), dtype=np.float32)
    for f in frames:
        acc += srgb_to_linear_np(f)
    acc /= np.float32(n)
    return linear_to_srgb_np(acc, out=acc), np.array(frames[n // 2], dtype=np.float32)


class GoProFrames:
    """Blurred/sharp pairs from a folder of consecutive video frames.

    Args:
        frames_dir: folder of frames whose sorted file names are in time order
            (e.g. ``../shared/datasets/blur/gopro_GOPR0477_frames``).
        n_range: inclusive range of frame counts; only odd counts are drawn.
        indices: restrict to these frame indices (a train/validation split by time range);
            windows never cross a gap in them.
    """

    def __init__(
        self,
        frames_dir: str | Path,
        *,
        n_range: tuple[int, int] = (5, 15),
        indices: Sequence[int] | None = None,
    ) -> None:
        self.files = sorted(p for p in Path(frames_dir).iterdir() if p.suffix.lower() in IMAGE_EXTS)
        if not self.files:
            raise FileNotFoundError(f"no frames in {frames_dir}")
        self.indices = sorted(range(len(self.files)) if indices is None else indices)
        lo, hi = n_range
        self.counts = [n for n in range(lo, hi + 1) if n % 2 == 1]
        if not self.counts:
            raise ValueError(f"n_range {n_range} contains no odd frame count")

    def windows(self, n: int) -> list[int]:
        """Start indices of all runs of ``n`` consecutive available frames."""
        avail = set(self.indices)
        return [s for s in self.indices if all(s + i in avail for i in range(n))]

    def draw(self, rng: np.random.Generator) -> tuple[int, int]:
        """Sample ``(n, start)``: an odd frame count from ``n_range`` and an available window."""
        n = int(rng.choice(self.counts))
        starts = self.windows(n)
        if not starts:
            raise ValueError(f"no run of {n} consecutive frames available")
        return n, int(starts[int(rng.integers(len(starts)))])

    def sample(
        self, rng: np.random.Generator, *, n: int | None = None, start: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """One pair: ``(blurred, sharp, info)`` float32 ``(H, W, 3)`` sRGB.

        ``n`` and ``start`` are drawn with :meth:`draw` unless both are given; ``info`` names the frames.
        """
        if n is None or start is None:
            n, start = self.draw(rng)
        if start not in self.windows(n):
            raise ValueError(f"frames {start}..{start + n - 1} are not all available")
        names = [self.files[start + i].name for i in range(n)]
        blurred, sharp = average_frames([_read(self.files[start + i]) for i in range(n)])
        return blurred, sharp, {"n": n, "start": start, "frames": names, "sharp_frame": names[n // 2]}


def _read(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / np.float32(255.0)
