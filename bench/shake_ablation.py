"""Where blind shake reduction loses: the kernel estimate alone, against the true kernel, on training photos.

Usage: python bench/shake_ablation.py [--limit 12] [--space linear|srgb] [--size auto|N] [--iters 5]
       [--split train|val]

Each pair: a 512-px crop of a clean photo of the chosen split (``train`` by default, so settings can be
tuned here and checked on the bench's validation pairs), shaken by a random trajectory in linear light,
half as bench/quality.py's deblur-shake pairs (4-32 px, mild noise, 8-bit), half as bench/deblur_classic.py's
shake-big (9-45 px, sigma 2/255, JPEG q90). For each pair the kernel is estimated blind
(:func:`app.core.deconv.kernel.estimate_kernel`, no gate) and both it and the true kernel are deconvolved
with the op's non-blind step: the gap between the two gains is what the estimate costs. Kernel error is
1 - peak normalised cross-correlation with the true kernel (0 = same shape).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from deblur_classic import jpeg  # noqa: E402
from deblur_oracle import point_spread  # noqa: E402
from quality_data import _seed, _splits, centre_crop, read_srgb  # noqa: E402

from app.core.color import srgb_to_linear  # noqa: E402
from app.core.deconv.kernel import estimate_kernel  # noqa: E402
from app.core.deconv.nonblind import deconvolve_srgb, noise_sigma, noise_to_lambda  # noqa: E402
from app.core.deconv.shake import blur_reading, kernel_agreement, luminance  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402


def photos(split: str, n: int) -> list[tuple[str, Path]]:
    from app.train.sources import SOURCES

    sp, out = _splits(), []
    for name, src in SOURCES.items():
        if src.kind == "clean" and name in sp.data["sources"]:
            out += [(f"{name}/{it.key}", it.paths[0]) for it in sp.items(name, split)]
    out = sorted(out)
    pick = np.random.default_rng(3).choice(len(out), min(n, len(out)), replace=False)
    return [out[i] for i in pick]


def pairs(split: str, n: int):
    from app.train.degrade import MotionBlur

    chosen = photos(split, n)
    for k, (name, path) in enumerate(chosen):
        clean = centre_crop(read_srgb(path))
        if k < len(chosen) // 2:
            rng = _seed(name, 5)
            b, t, info = MotionBlur(length_range=(4.0, 32.0))(clean, rng)
            s = rng.uniform(0, 4) / 255
            x = b + rng.normal(0, 1, b.shape).astype(np.float32) * s * np.sqrt(np.clip(b, 1e-3, 1) / 0.5)
            x = np.round(np.clip(x, 0, 1) * 255).astype(np.float32) / 255
            yield "mild/" + name, x, t, point_spread(info["kernel"])
        else:
            rng = _seed(name, 6)
            b, t, info = MotionBlur(length_range=(9.0, 45.0))(clean, rng)
            yield "big/" + name, jpeg(b + rng.normal(0, 2 / 255, b.shape).astype(np.float32), 90), t, \
                point_spread(info["kernel"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--split", default="train", choices=("train", "val"))
    ap.add_argument("--space", default="linear", choices=("linear", "srgb"))
    ap.add_argument("--size", default="auto", help="kernel side: 'auto' (the op's reading) or a number")
    ap.add_argument("--iters", type=int, default=5, help="kernel/latent iterations per scale")
    ap.add_argument("--smoothing", type=float, default=2.0, help="the op's default prior weight")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    rows = []
    for name, x, ref, k in pairs(a.split, a.limit):
        t = time.perf_counter()
        sigma = noise_sigma(x)
        lam = noise_to_lambda(sigma) / a.smoothing
        gray = luminance(x)
        width, _, auto = blur_reading(gray, sigma)
        size = auto if a.size == "auto" else int(a.size) | 1
        if a.space == "linear":
            gray = srgb_to_linear(np.clip(gray, 0, 1).astype(np.float32))
        est = estimate_kernel(gray, size, iters=a.iters)
        kerr = 1 - kernel_agreement(k, est.kernel)
        base = psnr(x, ref)
        blind = psnr(deconvolve_srgb(x, est.kernel, lam), ref) - base
        oracle = psnr(deconvolve_srgb(x, k.astype(np.float32), lam), ref) - base
        rows.append((blind, oracle, kerr))
        print(f"  {name[:40]:<40} in {base:5.2f} dB  edge {width:.2f} px  size {size} (true {k.shape[0]})  "
              f"kernel err {kerr:.2f}  blind {blind:+6.2f} dB  true kernel {oracle:+6.2f} dB  "
              f"{time.perf_counter() - t:.0f} s", flush=True)
    r = np.array(rows)
    print(f"{a.split} split, {len(rows)} pairs, {a.space} light, size {a.size}, {a.iters} iterations: blind "
          f"{r[:, 0].mean():+.2f} dB (worst {r[:, 0].min():+.2f}), true kernel {r[:, 1].mean():+.2f} dB, "
          f"kernel err {r[:, 2].mean():.2f}; {int((r[:, 2] >= 0.3).sum())} estimates with err >= 0.3")


if __name__ == "__main__":
    main()
