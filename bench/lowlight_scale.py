"""Low light with its nets at a bounded scale (``NET_MAX_PIXELS``) against the nets at full size: same photos.

    python bench/lowlight_scale.py [--limit 4] [--ratio 8] [--max-mp 0]

Data: the wallpaper photos of the *validation* split (full size, 4-12 MP; nothing here was tuned on
them), made dark the way a sensor would record them: linear light / ``--ratio``, Poisson-Gaussian noise,
8-bit sRGB, JPEG q90. The clean photo is the reference. Each photo runs the op's four stages (default
params, automatic ratio) twice: with the shipped ``NET_MAX_PIXELS`` and with the nets at full size (the
code before issue 23's change), in the same process, alternating. Prints, per photo and on average: PSNR
and SSIM of each path against the reference (SSIM on a 1024-px downscale: full-size SSIM takes minutes),
PSNR between the two paths, and each path's seconds. ``--max-mp`` sets another bound (MP) to compare.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.context import RunContext  # noqa: E402
from app.core.image import Image  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402
from app.core.ops import lowlight_stages as st  # noqa: E402
from app.core.ops.lowlight import LowlightOp, LowlightParams  # noqa: E402


def darken(rgb: np.ndarray, ratio: float, seed: int) -> np.ndarray:
    """A clean sRGB photo as an underexposed, noisy JPEG of it (``ratio`` x less light)."""
    from app.core.color import linear_to_srgb, srgb_to_linear

    rng = np.random.default_rng(seed)
    lin = srgb_to_linear(rgb.copy()) / ratio
    lin += rng.standard_normal(lin.shape, dtype=np.float32) * np.sqrt(2e-4 * lin + 2e-6).astype(np.float32)
    enc = np.clip(linear_to_srgb(np.clip(lin, 0, 1)) * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", enc[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255


def _small(x: np.ndarray) -> np.ndarray:
    f = 1024 / max(x.shape[:2])
    return cv2.resize(x, (round(x.shape[1] * f), round(x.shape[0] * f)), interpolation=cv2.INTER_AREA)


def run(dark: np.ndarray, max_pixels: int) -> tuple[np.ndarray, float, float]:
    old, st.NET_MAX_PIXELS = st.NET_MAX_PIXELS, max_pixels
    try:
        t0 = time.perf_counter()
        out = LowlightOp().run(Image(dark), LowlightParams(), RunContext(device="cpu"))
        return out.data, time.perf_counter() - t0, float(out.meta.extra["lowlight"]["ratio"])
    finally:
        st.NET_MAX_PIXELS = old


def main(argv: list[str] | None = None) -> int:
    from app.train.splits import load_splits

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--ratio", type=float, default=8.0, help="how much darker than the clean photo")
    ap.add_argument("--max-mp", type=float, default=0.0, help="bound to compare (default: the shipped one)")
    a = ap.parse_args(argv)
    bound = int(a.max_mp * 1e6) if a.max_mp else st.NET_MAX_PIXELS
    paths = [it.paths[0] for it in load_splits().items("wallpapers", "val")][: a.limit]
    print(f"nets at <= {bound / 1e6:.1f} MP vs at full size; darkened x{a.ratio:g}, load {_load():.1f}")
    rows = []
    for i, p in enumerate(paths):
        ref = cv2.imread(str(p), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
        dark = darken(ref, a.ratio, seed=i)
        (full, t_full, r_full), (bounded, t_b, r_b) = run(dark, 10 ** 12), run(dark, bound)
        sr = _small(ref)
        row = (psnr(full, ref), ssim(_small(full), sr), psnr(bounded, ref), ssim(_small(bounded), sr),
               psnr(bounded, full), t_full, t_b)
        rows.append(row)
        print(f"{p.parent.name}/{p.stem} {ref.shape[1]}x{ref.shape[0]}: full {row[0]:.2f} dB / {row[1]:.4f} "
              f"(ratio {r_full:.2f}, {t_full:.1f} s)  bounded {row[2]:.2f} dB / {row[3]:.4f} (ratio {r_b:.2f}, "
              f"{t_b:.1f} s)  between {row[4]:.2f} dB", flush=True)
    m = np.mean(rows, axis=0)
    print(f"mean: full {m[0]:.2f} dB / {m[1]:.4f}, {m[5]:.1f} s; bounded {m[2]:.2f} dB / {m[3]:.4f}, {m[6]:.1f} s; "
          f"between {m[4]:.2f} dB; speed-up {m[5] / m[6]:.2f}x (load {_load():.1f})")
    return 0


def _load() -> float:
    import os

    return os.getloadavg()[0]


if __name__ == "__main__":
    raise SystemExit(main())
