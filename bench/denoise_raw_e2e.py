"""24-MP RAW end to end through the CLI: decode -> denoise (RAW route) -> develop -> export (issue 4: <= 60 s).

Usage: python bench/denoise_raw_e2e.py [--mp 24] [--format tiff16] [--keep DIR]

No 24-MP RAW file is in the datasets, so the real Canon EOS 30D mosaic (8.3 MP) is tiled to the size
(whole 2x2 cells, so the CFA phase is kept) and written as an uncompressed 16-bit DNG with a NoiseProfile
equal to our calibration of that camera at the file's ISO (what the op uses for the CR2 itself). Then
``photorestore run`` runs in a child process, once without ops (decode -> develop -> export: the floor)
and once with ``--op denoise:mode=raw``; wall time and the child's peak RSS are printed for both. The
DNG has an identity colour matrix, so its colours are not the camera's; the timings do not depend on that.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests/core/io"))
RAW = ROOT.parent / "shared/datasets/raw/bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def make_dng(path: Path, mp: float) -> str:
    """Write the tiled 30D mosaic as a DNG of ``mp`` megapixels; returns the noise level's description."""
    from io_testdata import write_dng

    from app.core.io import load_image
    from app.core.ops.denoise_noise import resolve_raw_noise

    src = load_image(RAW, raw_as="bayer")
    d = src.data[..., 0]
    packed = np.stack([d[0::2, 0::2], d[0::2, 1::2], d[1::2, 0::2], d[1::2, 1::2]], axis=2)
    noise = resolve_raw_noise(src, packed, source="calibration")
    w = int((mp * 1e6 * 3 / 2) ** 0.5) // 2 * 2
    h = int(mp * 1e6 / w) // 2 * 2
    mosaic = np.tile(d, (-(-h // d.shape[0]), -(-w // d.shape[1])))[:h, :w]
    # white 65535, black 0: the normalised mosaic maps straight back to the file's values
    write_dng(path, np.round(np.clip(mosaic, 0, 1) * 65535), black=0, white=65535, make="Canon",
              model="EOS 30D (tiled)", noise_profile=(noise.shot[0], noise.read[0]))
    return (f"{w}x{h} ({w * h / 1e6:.1f} MP), NoiseProfile shot {noise.shot[0]:.3g} read {noise.read[0]:.3g} "
            f"({noise.source})")


def run_cli(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of one ``photorestore run`` child process."""
    code = ("import resource, sys; from app.cli import main; rc = main(sys.argv[1:]); "
            "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc or 0)")
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"photorestore {' '.join(args)} failed:\n{res.stderr[-2000:]}")
    peak = next(int(l.split()[1]) for l in res.stdout.splitlines() if l.startswith("PEAK_KB"))
    return wall, peak / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mp", type=float, default=24.0)
    ap.add_argument("--format", default="tiff16", choices=("jpg", "png16", "tiff16"))
    ap.add_argument("--keep", type=Path, default=None, help="keep the DNG and the exports here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        dng = work / "tiled_30d.dng"
        print(f"input: {make_dng(dng, a.mp)}; {dng.stat().st_size / 1e6:.0f} MB; CPU threads: {os.cpu_count()}, "
              f"load average {os.getloadavg()[0]:.1f}")
        rows = {"decode -> develop -> export": [], "decode -> denoise (raw) -> develop -> export":
                ["--op", "denoise:mode=raw"]}
        for name, ops in rows.items():
            out = work / ("plain" if not ops else "denoised")
            wall, peak = run_cli(["run", str(dng), "-o", str(out), "--device", "cpu", "--format", a.format,
                                  "--overwrite", *ops])
            target = "" if not ops else f"; target <= 60 s: {'OK' if wall <= 60 else 'OVER'}, <= 6 GB: " \
                                        f"{'OK' if peak <= 6 else 'OVER'}"
            print(f"{name}: {wall:.1f} s wall (process start included), peak RSS {peak:.2f} GB{target}")


if __name__ == "__main__":
    main()
