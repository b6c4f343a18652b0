"""Random camera-shake blur kernels from simulated hand trajectories.

Follows the idea of Boracchi & Foi ("Modeling the performance of image restoration from
motion blur", 2012), also used by DeblurGAN: the camera's image-plane position is a 2-D random
walk whose velocity has constant speed and whose direction is perturbed by Gaussian jitter, pulled
back towards the start (hands correct drift), and occasionally jerked (an abrupt shake).
The path is splatted with bilinear weights onto a small canvas. ``curvature`` scales all
perturbations: 0 gives a straight linear-motion kernel, 1 tangled, hooked paths.

Kernels are centred on their centre of mass, so blurring does not shift the image relative to
its sharp target, are non-negative and sum to 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["random_trajectory", "trajectory_to_kernel", "random_motion_kernel"]


def random_trajectory(
    rng: np.random.Generator,
    length: float,
    *,
    curvature: float = 0.5,
    steps: int | None = None,
) -> np.ndarray:
    """A camera-shake path of roughly constant speed.

    Args:
        rng: numpy random generator.
        length: total path length in pixels (> 0).
        curvature: 0 = straight line; 1 = strongly curved / jerky (values in [0, 1]).
        steps: samples along the path (default ``4 * length``, at least 32).

    Returns:
        ``(steps, 2)`` float64 array of (x, y) positions, starting at the origin.
    """
    steps = steps or max(32, int(4 * length))
    step = 1.0 / (steps - 1)  # the path is built with unit length, then scaled
    curvature = float(np.clip(curvature, 0.0, 1.0))
    # Per-trajectory personality, as in Boracchi & Foi: jitter strength, how strongly the hand is
    # pulled back towards where it started, and how likely an abrupt jerk is. All scale with
    # ``curvature`` and are normalised by the step count, so the shape does not depend on ``steps``.
    sigma = curvature * rng.uniform(0.3, 1.0) * 2.0 / np.sqrt(steps)  # total turning ~ N(0, 2 rad)
    pull = curvature * rng.uniform(0.0, 0.7)
    jerk_prob = curvature * rng.uniform(0.0, 1.6) / steps  # expected jerks per path <= 1.6
    theta = rng.uniform(0.0, 2.0 * np.pi)
    normals = rng.standard_normal(steps)
    uniforms = rng.uniform(size=(steps, 2))
    pos = np.zeros(steps, dtype=np.complex128)
    for t in range(steps - 1):
        theta += sigma * normals[t]
        if uniforms[t, 0] < jerk_prob:
            theta += np.pi + uniforms[t, 1] - 0.5  # the hand snaps back, roughly reversing
        v = np.exp(1j * theta) - pull * pos[t]  # unit heading plus a pull towards the start
        theta = float(np.angle(v))
        pos[t + 1] = pos[t] + step * np.exp(1j * theta)
    pos *= length
    return np.stack([pos.real, pos.imag], axis=1)


def trajectory_to_kernel(points: np.ndarray, size: int | None = None) -> np.ndarray:
    """Rasterise a path into a blur kernel (equal exposure time per sample).

    Args:
        points: ``(N, 2)`` (x, y) positions in pixels.
        size: odd kernel side; by default the smallest odd size that holds the path.

    Returns:
        ``(size, size)`` float32 kernel, non-negative, summing to 1, centre of mass at the centre.
    """
    pts = np.asarray(points, dtype=np.float64)
    pts = pts - pts.mean(axis=0)
    if size is None:
        extent = 2.0 * np.abs(pts).max() + 3.0
        size = int(np.ceil(extent)) | 1
    if size % 2 == 0:
        raise ValueError(f"kernel size must be odd, got {size}")
    c = (size - 1) / 2.0
    # Keep every sample on the canvas (only relevant when the caller forces a small size).
    pts = np.clip(pts + c, 0.0, size - 1.000001)
    x0, y0 = np.floor(pts[:, 0]).astype(int), np.floor(pts[:, 1]).astype(int)
    fx, fy = pts[:, 0] - x0, pts[:, 1] - y0
    k = np.zeros((size, size), dtype=np.float64)
    for dy, dx, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(k, (np.minimum(y0 + dy, size - 1), np.minimum(x0 + dx, size - 1)), w)
    return (k / k.sum()).astype(np.float32)


def random_motion_kernel(
    rng: np.random.Generator,
    *,
    length_range: tuple[float, float] = (4.0, 32.0),
    curvature_range: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, dict[str, Any]]:
    """Sample a camera-shake kernel.

    Args:
        rng: numpy random generator.
        length_range: path length in pixels, sampled log-uniformly (short shakes are more common).
        curvature_range: see :func:`random_trajectory`, sampled uniformly.

    Returns:
        ``(kernel, info)``: float32 ``(k, k)`` kernel (odd k) summing to 1, and the sampled parameters.
    """
    length = float(np.exp(rng.uniform(np.log(length_range[0]), np.log(length_range[1]))))
    curvature = float(rng.uniform(*curvature_range))
    kernel = trajectory_to_kernel(random_trajectory(rng, length, curvature=curvature))
    return kernel, {
        "length": round(length, 3),
        "curvature": round(curvature, 3),
        "size": int(kernel.shape[0]),
    }
