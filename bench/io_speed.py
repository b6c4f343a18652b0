"""Image I/O speed: decode and export seconds per megapixel, for RAW (the CR2) and JPEG; peak memory.

Usage: python bench/io_speed.py [--repeat 1] [--big-mp 100] [--raw PATH]

Prints one table: for each source (the Canon EOS 30D CR2 from ../shared/datasets/raw/bayer and a
synthetic ~12-MP JPEG written in the run) the decode, preview and development steps, then the export
of the decoded image to every format, each as seconds and seconds per megapixel. With ``--big-mp N``
(default 100; 0 skips it) it then loads and saves an N-megapixel JPEG in a fresh process and prints
that process's peak RSS (target: well under 4 GB for 100 MP).
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.io import EXPORT_FORMATS, develop, load_image, load_preview, save_image  # noqa: E402

DATASETS = Path(os.environ.get("PHOTORESTORE_DATASETS", REPO.parent / "shared" / "datasets"))
CR2 = DATASETS / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def synthetic_photo(w: int, h: int, seed: int = 0) -> np.ndarray:
    """Photo-like uint8 RGB: smooth random colour fields plus fine grain (compresses like a real photo)."""
    rng = np.random.default_rng(seed)
    out = np.empty((h, w, 3), np.uint8)
    base = rng.integers(0, 256, (max(2, h // 64), max(2, w // 64), 3), dtype=np.uint8)
    band = 1024
    for y0 in range(0, h, band):  # in bands so making the input does not dominate memory
        y1 = min(h, y0 + band)
        rows = base[y0 * base.shape[0] // h : y1 * base.shape[0] // h + 2]
        smooth = cv2.resize(rows, (w, rows.shape[0] * 64), interpolation=cv2.INTER_CUBIC)[: y1 - y0]
        grain = rng.integers(-6, 7, smooth.shape, dtype=np.int16)
        out[y0:y1] = np.clip(smooth.astype(np.int16) + grain, 0, 255)
    return out


def timed(fn, repeat: int):  # noqa: ANN001, ANN201
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_source(label: str, path: Path, tmp: Path, repeat: int, rows: list[tuple]) -> None:
    is_raw = path.suffix.lower() not in (".jpg", ".jpeg")
    secs, img = timed(lambda: load_image(path), repeat)
    rows.append((label, "decode" + (" (Bayer mosaic)" if is_raw else ""), secs, img.megapixels, ""))
    secs, prev = timed(lambda: load_preview(path, 1600), repeat)
    rows.append((label, "load_preview(1600)", secs, img.megapixels, f"-> {prev.width}x{prev.height}"))
    if is_raw:
        secs, img = timed(lambda: develop(img), repeat)
        rows.append((label, "develop (LibRaw AHD)", secs, img.megapixels, ""))
    for fmt, (suffix, _) in EXPORT_FORMATS.items():
        dest = tmp / f"{label}-{fmt}{suffix}"
        secs, _ = timed(lambda d=dest, f=fmt: save_image(img, d, format=f, overwrite=True), repeat)
        rows.append((label, f"export {fmt}", secs, img.megapixels, f"{dest.stat().st_size / 1e6:.1f} MB"))


def peak_rss_load_save(mp: float, tmp: Path) -> tuple[float, float, str]:
    """Load + save (JPEG) of an ``mp``-megapixel JPEG in a fresh grandchild; its peak RSS in GB."""
    w = int((mp * 1e6 * 3 / 2) ** 0.5) // 16 * 16
    h = int(mp * 1e6 / w) // 16 * 16 + 16
    src = tmp / "big.jpg"
    cv2.imwrite(str(src), synthetic_photo(w, h, seed=1), [cv2.IMWRITE_JPEG_QUALITY, 90])
    job = (
        "import sys; sys.path.insert(0, sys.argv[1]); from app.core.io import load_image, save_image; "
        "img = load_image(sys.argv[2]); save_image(img, sys.argv[3], format='jpg')"
    )
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
    )
    cmd = [sys.executable, "-c", probe, sys.executable, "-c", job, str(REPO), str(src), str(tmp / "o.jpg")]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"big load+save failed: {res.stderr.strip()[-500:]}")
    peak_gb = int(res.stdout.strip().splitlines()[-1]) / 1024**2  # ru_maxrss is in KiB on Linux
    return peak_gb, time.perf_counter() - t0, f"{w}x{h}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs per step")
    ap.add_argument("--big-mp", type=float, default=100.0, help="megapixels for the peak-RSS check (0: skip)")
    ap.add_argument("--raw", type=Path, default=CR2)
    ap.add_argument("--jpeg-mp", type=float, default=12.0)
    ap.add_argument("--skip-table", action="store_true", help="only the peak-RSS check")
    a = ap.parse_args()
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if a.skip_table:
            pass
        elif a.raw.is_file():
            bench_source("RAW (CR2)", a.raw, tmp, a.repeat, rows)
        else:
            print(f"RAW sample not found at {a.raw}; skipping the RAW rows")
        if not a.skip_table:
            w = int((a.jpeg_mp * 1e6 * 3 / 2) ** 0.5)
            h = int(a.jpeg_mp * 1e6 / w)
            jpeg = tmp / "synthetic.jpg"
            cv2.imwrite(str(jpeg), synthetic_photo(w, h), [cv2.IMWRITE_JPEG_QUALITY, 92])
            bench_source(f"JPEG {w * h / 1e6:.0f} MP", jpeg, tmp, a.repeat, rows)
            print(f"{'source':12s} {'step':24s} {'seconds':>8s} {'MP':>6s} {'s/MP':>7s}  note")
            for label, step, secs, mp, note in rows:
                print(f"{label:12s} {step:24s} {secs:8.2f} {mp:6.1f} {secs / mp:7.3f}  {note}")
        if a.big_mp > 0:
            peak, secs, size = peak_rss_load_save(a.big_mp, tmp)
            decoded = a.big_mp * 1e6 * 12 / 1024**3
            print(
                f"\n{a.big_mp:.0f}-MP JPEG ({size}) load_image + save_image(jpg): peak RSS {peak:.2f} GB "
                f"({peak / decoded:.2f}x the {decoded:.2f} GB float32 image), {secs:.1f} s incl. start-up"
            )
            print("target: well under 4 GB")


if __name__ == "__main__":
    main()
