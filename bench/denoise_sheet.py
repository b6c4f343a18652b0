"""Contact sheet of the real RAW files developed without and with RAW denoising (for looking, not scoring).

Usage: python bench/denoise_sheet.py [--out bench/out/denoise_real_raw.png] [--side 320] [--strength 1.0]

Per file in ``../shared/datasets/raw/bayer``: a centre crop and the darkest-region crop (where noise shows)
of LibRaw's development of the original mosaic | of the denoised mosaic, labelled with the noise level the
op used. These files have no clean references, so there is no PSNR: this is the "no colour shift, no
blotches, no over-smoothing" check by eye. Needs the trained ``cycleisp_raw_denoise`` weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sheet_image import label, write_rows  # noqa: E402

RAW_DIR = ROOT.parent / "shared/datasets/raw/bayer"


def _crops(img: np.ndarray, side: int) -> list[tuple[int, int]]:
    """Top-left corners of the centre crop and of the darkest (non-black) crop on a coarse grid."""
    h, w = img.shape[:2]
    side = min(side, h, w)
    centre = ((h - side) // 2, (w - side) // 2)
    luma = cv2.resize(img.mean(axis=2), (w // side, h // side), interpolation=cv2.INTER_AREA)
    luma = np.where(luma > 0.03, luma, np.inf)  # skip clipped-black borders
    gy, gx = np.unravel_index(int(np.argmin(luma)), luma.shape)
    return [centre, (gy * side, gx * side)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/denoise_real_raw.png")
    ap.add_argument("--side", type=int, default=320)
    ap.add_argument("--strength", type=float, default=1.0)
    a = ap.parse_args()
    from app.core.context import RunContext
    from app.core.io import develop, load_image
    from app.core.ops.denoise import DenoiseParams
    from app.core.ops.registry import get_op

    op = get_op("denoise")
    ok, why = op.availability(DenoiseParams(mode="raw"))
    if not ok:
        raise SystemExit(f"RAW denoise unavailable: {why}")
    rows = []
    for path in sorted(p for p in RAW_DIR.iterdir() if p.suffix.lower() != ".png"):
        image = load_image(path, raw_as="bayer")
        t0 = time.perf_counter()
        den = op.run(image, DenoiseParams(mode="raw", strength=a.strength), RunContext(device="cpu"))
        secs = time.perf_counter() - t0
        before, after = develop(image).data, develop(den).data
        info = den.meta.extra["denoise"]
        side = min(a.side, *before.shape[:2])
        print(f"{path.name}: {image.width}x{image.height}, {secs:.1f} s, noise {info['noise_source']} "
              f"(shot {info['shot'][0]:.3g}, read {info['read'][0]:.3g}); mean colour before "
              f"{np.round(before.mean(axis=(0, 1)), 4)} after {np.round(after.mean(axis=(0, 1)), 4)}")
        for y, x in _crops(before, side):
            crop = (slice(y, y + side), slice(x, x + side))
            rows.append(np.concatenate([label(before[crop], f"{path.stem[:28]} original"),
                                        label(after[crop], f"RAW denoise ({info['noise_source'][:30]})")], 1))
    write_rows(rows, a.out)


if __name__ == "__main__":
    main()
