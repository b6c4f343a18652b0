"""Peak memory of the whole CLI path on a 100-megapixel photo (decode -> pipeline -> export).

Usage: python bench/big_image_memory.py [--mp 100] [--op exposure:ev=0.3]
Prints peak RSS (from the child's rusage) and seconds for a no-op pipeline and, optionally, one op,
next to the size of the decoded image itself, so the overhead ratio is visible.
Target (issue 2): no-op pipeline on a 100-MP image < ~4 GB peak RSS on CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np


def make_jpeg(path: Path, megapixels: float) -> tuple[int, int]:
    w = int((megapixels * 1e6 * 4 / 3) ** 0.5) // 16 * 16
    h = int(megapixels * 1e6 / w) // 16 * 16
    # Smooth gradients + mild texture, built in bands so making the input does not dominate memory.
    img = np.empty((h, w, 3), np.uint8)
    x = np.linspace(0, 255, w, dtype=np.float32)
    for y0 in range(0, h, 1024):
        y1 = min(h, y0 + 1024)
        yy = np.linspace(y0, y1, y1 - y0, dtype=np.float32)[:, None]
        img[y0:y1, :, 0] = (x[None, :] * 0.8 + yy * 0.01) % 256
        img[y0:y1, :, 1] = (yy * 0.05 + 60) % 256
        img[y0:y1, :, 2] = (x[None, :] * 0.3 + 40) % 256
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return w, h


def run_child(args: list[str]) -> tuple[float, float]:
    """Run the CLI in a fresh grandchild so ru_maxrss is that run's peak alone."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "app", *args],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"photorestore failed: {res.stderr.strip()}")
    peak_kb = int(res.stdout.strip().splitlines()[-1])
    return peak_kb / 1024**2, time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mp", type=float, default=100.0)
    ap.add_argument("--op", default="exposure:ev=0.3")
    ap.add_argument("--format", default="jpg")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.jpg"
        w, h = make_jpeg(src, a.mp)
        decoded_gb = w * h * 3 * 4 / 1024**3
        print(f"input {w}x{h} = {w * h / 1e6:.1f} MP, float32 RGB = {decoded_gb:.2f} GB, "
              f"file {os.path.getsize(src) / 1e6:.1f} MB")
        rows = [("no-op", ["run", str(src), "-o", f"{tmp}/o1", "--format", a.format])]
        if a.op:
            rows.append((a.op, ["run", str(src), "-o", f"{tmp}/o2", "--format", a.format, "--op", a.op]))
        print(f"{'pipeline':24s} {'peak RSS GB':>12s} {'x decoded':>10s} {'seconds':>8s}")
        for name, args in rows:
            peak, secs = run_child(args)
            print(f"{name:24s} {peak:12.2f} {peak / decoded_gb:10.2f} {secs:8.1f}")
    print("target: no-op < 4 GB peak RSS")


if __name__ == "__main__":
    main()
