"""RAW route vs sRGB route of the ``denoise`` op, scored against two references (issue 4's RAW target).

Usage: python bench/denoise_raw_routes.py [--limit 4] [--seed 0]

``bench/quality.py``'s denoise-raw reference is the clean photo rendered by the synthetic camera *without*
the mosaic: a denoiser working on the mosaic cannot reach it, because the development (bilinear demosaic)
adds its own artifacts after denoising; an sRGB denoiser trained on that same target also learns to undo
them. So this script adds the reference a RAW denoiser is aiming at: the clean mosaic developed by the same
camera (the "oracle" RAW denoiser's output), and rows where both routes develop with Malvar's demosaic
instead of the camera's bilinear one (the app develops real RAW files with LibRaw's AHD): the RAW route's
denoised mosaic, and the noisy mosaic before the sRGB denoiser.
Rows: identity, NLM, BM3D (256 px centre crop, first 2 pairs), the oracles, ``denoise`` mode=raw (noise
level = the pairs' true shot/read, given as a DNG NoiseProfile) and mode=srgb on the developed noisy image,
all on the same validation pairs (``bench/quality_data.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import centre_crop, validation_pairs  # noqa: E402
from quality_ours import run_op  # noqa: E402

from app.core.isp.synthetic_camera import process_np  # noqa: E402
from app.core.metrics.baselines import bm3d_denoise, nlm  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402


def _malvar_noisy(pair) -> np.ndarray:
    """The pair's noisy mosaic developed by its camera with Malvar's demosaic instead of bilinear."""
    rp = pair.extra["raw_pair"]
    return np.clip(process_np(rp.noisy, rp.isp, demosaic_method="malvar"), 0, 1).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    from app.core.ops.denoise import DenoiseParams
    from app.core.ops.registry import get_op

    op = get_op("denoise")
    methods = {
        "identity": lambda x, p: x,
        "nlm": lambda x, p: nlm(x),
        "bm3d (crop)": lambda x, p: bm3d_denoise(x),
        "oracle: clean mosaic developed": lambda x, p: process_np(p.extra["raw_pair"].clean, p.extra["raw_pair"].isp),
        "noisy input, developed with Malvar": lambda x, p: _malvar_noisy(p),
        "oracle, developed with Malvar": lambda x, p: process_np(p.extra["raw_pair"].clean, p.extra["raw_pair"].isp,
                                                                 demosaic_method="malvar"),
    }
    for name, mode, bayer in (("denoise mode=raw", "raw", True), ("denoise develop>srgb", "srgb", False)):
        ok, why = op.availability(DenoiseParams(mode=mode))
        if ok:
            methods[name] = (lambda m, b: lambda x, p: run_op("denoise", {"mode": m}, x, p, b))(mode, bayer)
            if bayer:
                methods["denoise mode=raw, developed with Malvar"] = (
                    lambda x, p: run_op("denoise", {"mode": "raw"}, x, p, True, demosaic="malvar"))
            else:
                # the same development for both routes: Malvar, then the sRGB denoiser
                methods["develop with Malvar>srgb"] = (
                    lambda x, p: run_op("denoise", {"mode": "srgb"}, _malvar_noisy(p), p, False))
        else:
            print(f"{name}: unavailable ({why})")
    scores: dict[str, dict[str, list[float]]] = {n: {"a": [], "b": [], "sa": [], "sb": []} for n in methods}
    pairs = list(validation_pairs("denoise-raw", a.limit, a.seed))
    for i, p in enumerate(pairs):
        rp = p.extra["raw_pair"]
        ref_b = np.clip(process_np(rp.clean, rp.isp), 0, 1)
        for name, fn in methods.items():
            x, ref_a, rb = p.degraded, p.reference, ref_b
            if name.startswith("bm3d"):
                if i >= 2:
                    continue
                x, ref_a, rb = (centre_crop(v, 256) for v in (x, ref_a, rb))
            y = np.clip(fn(x, p), 0, 1)
            s = scores[name]
            s["a"].append(psnr(y, ref_a))
            s["b"].append(psnr(y, rb))
            s["sa"].append(ssim(y, ref_a))
            s["sb"].append(ssim(y, rb))
    print(f"denoise-raw routes, {len(pairs)} validation pairs (seed {a.seed}): "
          + ", ".join(f"{p.name} shot {p.extra['raw_pair'].noise.shot:.2g}" for p in pairs))
    print("| method | PSNR vs no-mosaic render | SSIM | PSNR vs clean mosaic developed | SSIM |")
    print("|---|---|---|---|---|")
    for name, s in scores.items():
        if s["a"]:
            print(f"| {name} | {np.mean(s['a']):.2f} | {np.mean(s['sa']):.4f} | {np.mean(s['b']):.2f} | "
                  f"{np.mean(s['sb']):.4f} |")


if __name__ == "__main__":
    main()
