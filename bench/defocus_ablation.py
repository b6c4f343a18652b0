"""Where does blind defocus reduction lose: the radius, the PSF shape or the deconvolution? TRAINING photos.

Usage: python bench/defocus_ablation.py [--limit 12] [--modes op,op-map,oracle,disk-true,fit,fit-shape] [--depth]

Pairs like bench/deblur_classic.py's ``defocus`` set (disk or ring PSF, radius 2-10 px, linear light,
sigma 1/255, 8-bit) but made from training-split photos (bench/shake_ablation.py's draw). Per pair the
PSNR gain of: ``op`` (the defocus op at its defaults), ``oracle`` (true shape and radius, the op's
deconvolution), ``disk-true`` (true radius, disk PSF), ``fit``/``fit-shape`` (the spectrum fit, disk
only / disk or ring, deconvolved directly), ``op-map`` (the op with ``varying``), plus the radius read.
``--depth``: the radius ramps from 0 to 3-10 px across the frame (``oracle`` then means the op's
deconvolution at the largest radius, an upper bound only for the blurred side).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from deblur_classic import run_op, to8  # noqa: E402
from quality_data import _seed, centre_crop, read_srgb  # noqa: E402
from shake_ablation import photos  # noqa: E402

from app.core.deconv.defocus import psf  # noqa: E402
from app.core.deconv.nonblind import deconvolve_srgb, noise_sigma, noise_to_lambda  # noqa: E402
from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402


def train_pairs(n: int, depth: bool = False, seed: int = 11):
    for i, (name, path) in enumerate(photos("train", n)):
        clean = centre_crop(read_srgb(path))
        rng = _seed(name, seed)
        shape = ("disk", "ring")[i % 2]
        r = float(rng.uniform(2.0, 10.0)) if not depth else float(rng.uniform(3.0, 10.0))
        lin = srgb_to_linear_np(np.ascontiguousarray(clean))
        if depth:  # as bench/deblur_classic.py's defocus-depth: radius ramps 0 (left) to r (right)
            b = ramp_blur(lin, shape, r)
        else:
            b = cv2.filter2D(lin, -1, psf(shape, r), borderType=cv2.BORDER_REFLECT)
        noisy = linear_to_srgb_np(b.astype(np.float32)) + rng.normal(0, 1 / 255, b.shape).astype(np.float32)
        yield name, to8(noisy), clean, shape, r


def ramp_blur(lin: np.ndarray, shape: str, r: float) -> np.ndarray:
    ramp = np.linspace(0.0, r, lin.shape[1])[None, :, None]
    levels = np.linspace(0.0, r, 8)
    layers = [lin if lv < 0.5 else cv2.filter2D(lin, -1, psf(shape, lv), borderType=cv2.BORDER_REFLECT)
              for lv in levels]
    step = levels[1] - levels[0]
    return sum(np.clip(1 - np.abs(ramp - lv) / step, 0, 1) * layer for lv, layer in zip(levels, layers, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--modes", default="op,oracle,disk-true")
    ap.add_argument("--depth", action="store_true", help="radius ramped across the frame (op-map, op)")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    modes = a.modes.split(",")
    gains: dict[str, list[float]] = {m: [] for m in modes}
    for name, x, ref, shape, r in train_pairs(a.limit, a.depth):
        base = finite_psnr(psnr(x, ref))
        lam = noise_to_lambda(noise_sigma(x))
        line = f"{name:<40} {shape:<4} r={r:5.2f} in {base:5.2f}"
        for m in modes:
            if m in ("op", "op-map"):
                out, info = run_op("defocus", x, varying=m == "op-map")
                line += f" est {info.get('shape', '?')[0]} {info.get('radius')} {info.get('radius_max', '')}"
            elif m == "oracle":
                out = deconvolve_srgb(x, psf(shape, r), lam)
            elif m in ("fit", "fit-shape"):
                from app.core.deconv.psf_fit import fit_radius
                y = srgb_to_linear_np(np.ascontiguousarray(x)) @ np.array([0.2126, 0.7152, 0.0722], np.float32)
                fr = fit_radius(y, ("disk", "ring") if m == "fit-shape" else ("disk",))
                line += f" {m}[{fr['shape'][0]} {fr['radius']:.2f} {fr['err']:.3f}/{fr['err_sharp']:.3f}]"
                out = x if fr["radius"] < 1.5 else deconvolve_srgb(x, psf(fr["shape"], fr["radius"]), lam)
            elif m == "disk-true":
                out = deconvolve_srgb(x, psf("disk", r), lam)
            g = finite_psnr(psnr(out, ref)) - base
            gains[m].append(g)
            line += f" {m} {g:+.2f}"
        print(line, flush=True)
    print("mean: " + "  ".join(f"{m} {np.mean(v):+.2f} dB" for m, v in gains.items()))


if __name__ == "__main__":
    main()
