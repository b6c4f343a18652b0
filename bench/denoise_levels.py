"""sRGB denoiser vs BM3D at fixed levels of realistic synthetic noise (issue 4: "at every noise level").

    python bench/denoise_levels.py [--photos 8] [--side 256]

Each validation photo (centre crop) is unprocessed to RAW by a seeded random camera, given SIDD-like
shot/read noise at one of three fixed levels, quantised to 12 bits and developed by the same camera; the
reference is the clean photo developed by that camera without the mosaic (``app.train.degrade.RawNoise``'s
recipe, with the level fixed instead of drawn). That reference differs from the noisy input by more than
the noise: the camera's bilinear demosaic loses detail (on these detailed validation crops the clean
mosaic developed scores only 17-26 dB against the render), which the learned denoiser, trained on exactly
this recipe, partly restores and BM3D cannot; at the lowest level most of the input's error is that.
Rows per level: the noisy input, BM3D with its sigma
estimated from the image (as ``bench/quality.py`` runs it), BM3D with the *true* sigma (the RMS of the
noise in sRGB: an oracle no user has, so the strictest baseline), and the ``denoise`` op (sRGB route,
fast model, noise level estimated by the op itself). Gains are over the better BM3D, same pixels.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import _clean_val, centre_crop, read_srgb  # noqa: E402
from quality_ours import run_op  # noqa: E402

from app.core.isp.noise import NoiseParams, add_noise_np, quantize_np  # noqa: E402
from app.core.isp.synthetic_camera import process_np, sample_isp_params, unprocess_np  # noqa: E402
from app.core.metrics.baselines import bm3d_denoise  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402

#: (name, shot): three in the SIDD model's range (6.9e-4 .. 2.2e-2), one in DND's low end (1e-4 ..);
#: read from the SIDD model's mean log-linear relation
LEVELS = [("very low", 2e-4), ("low", 1.5e-3), ("mid", 5e-3), ("high", 1.5e-2)]


def noisy_pair(clean: np.ndarray, shot: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    read = 10.0 ** (1.85 * np.log10(shot) + 0.30)
    isp = sample_isp_params(rng)
    mosaic = unprocess_np(clean, isp)
    raw = add_noise_np(mosaic, NoiseParams(shot, read), rng)
    raw = np.minimum(quantize_np(raw, 12), np.float32(1.0))
    noisy = process_np(raw, isp)
    target = process_np(unprocess_np(clean, isp, mosaic=False), isp)
    return np.clip(noisy, 0, 1), np.clip(target, 0, 1)


def _candidate(x: np.ndarray, directory: Path) -> np.ndarray:
    from app.core.models.testing import models_dir_env

    with models_dir_env(directory):
        return run_op("denoise", {"mode": "srgb"}, x)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--side", type=int, default=256)
    ap.add_argument("--skip-bm3d", action="store_true",
                    help="no BM3D rows (minutes per photo on a loaded CPU): gains are then over the input")
    ap.add_argument("--candidate", type=Path, default=None, metavar="DIR",
                    help="also score the op with the models of DIR (a copy of models/ with new weights)")
    args = ap.parse_args(argv)
    photos = [(name, centre_crop(read_srgb(path), args.side)) for name, path in _clean_val()[: args.photos]]
    print(f"# sRGB denoise vs BM3D, realistic synthetic noise, {len(photos)} validation photos, {args.side} px\n")
    over = "the input" if args.skip_bm3d else "best BM3D"
    print(f"| level (shot) | method | PSNR dB | SSIM | gain over {over} dB | SSIM gain | s/photo |")
    print("|---|---|---|---|---|---|---|")
    for level, shot in LEVELS:
        rows: dict[str, list[tuple[float, float, float]]] = {}
        for k, (_name, clean) in enumerate(photos):
            rng = np.random.default_rng(1000 * k + int(shot * 1e5))
            noisy, ref = noisy_pair(clean, shot, rng)
            sigma = float(np.sqrt(np.mean((noisy - ref) ** 2)))
            methods = {"noisy input": lambda x: x, "BM3D (estimated sigma)": bm3d_denoise,
                       "BM3D (true sigma)": lambda x, s=sigma: bm3d_denoise(x, s),
                       "denoise op (fast, sRGB)": lambda x: run_op("denoise", {"mode": "srgb"}, x)}
            if args.skip_bm3d:
                del methods["BM3D (estimated sigma)"], methods["BM3D (true sigma)"]
            if args.candidate is not None:
                methods["denoise op, candidate weights"] = lambda x: _candidate(x, args.candidate)
            for m, fn in methods.items():
                t0 = time.perf_counter()
                y = np.clip(fn(noisy), 0, 1)
                rows.setdefault(m, []).append((psnr(y, ref), ssim(y, ref), time.perf_counter() - t0))
        mean = {m: np.mean(np.array(v), axis=0) for m, v in rows.items()}
        best = max(("BM3D (estimated sigma)", "BM3D (true sigma)") if not args.skip_bm3d else ("noisy input",),
                   key=lambda m: mean[m][0])
        for m, (p, s, t) in mean.items():
            gain = "" if m == "noisy input" else f"{p - mean[best][0]:+.2f}"
            sgain = "" if m == "noisy input" else f"{s - mean[best][1]:+.4f}"
            print(f"| {level} ({shot:g}) | {m} | {p:.2f} | {s:.4f} | {gain} | {sgain} | {t:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
