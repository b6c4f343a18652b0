"""Where the seconds of one ``photorestore run`` go: the CLI in this process under cProfile, per stage.

    python bench/e2e_stages.py [--raw FILE.dng | --mp 24] [--op denoise:mode=raw] [--format tiff16]
                               [--backend auto] [--tile N] [--keep DIR] [--top N]

Without an input it makes the issue-23 inputs (the same as ``bench/backends.py --e2e``): the 24-MP DNG
tiled from the real Canon 30D mosaic for a RAW op, the SCI demo shot tiled to 6000x4000 JPEG for any other.
Prints the wall time of the run (imports of app.cli excluded and shown apart: a fresh process pays them),
then each stage's cumulative seconds (cProfile's ``cumtime`` of the function that does it; nested stages
are inside their parents). cProfile adds a little per Python call; the runtimes' kernels are one call per tile.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

#: (label, module path suffix, function name): the stages of a run, in order.
STAGES = [
    ("decode (open_photo)", "workflow/files.py", "open_photo"),
    ("  RAW unpack (LibRaw)", "io/raw.py", "decode_bayer"),
    ("model load (weights, ONNX, runtime)", "models/registry.py", "load_model"),
    ("RAW denoise: pack + noise map", "ops/denoise.py", "raw_input"),
    ("RAW denoise: luma/colour blend", "ops/denoise.py", "blend_params"),
    ("RAW denoise: noise-aware guard", "ops/denoise_raw_guard.py", "guard_raw"),
    ("low light: decompose", "ops/lowlight_stages.py", "decompose"),
    ("  input colour (chroma, blur)", "ops/lowlight_stages.py", "_colour"),
    ("low light: restore", "ops/lowlight_stages.py", "restore"),
    ("low light: adjust", "ops/lowlight_stages.py", "_adjust"),
    ("low light: fuse", "ops/lowlight_stages.py", "fuse"),
    ("tiler (all tiles + blend)", "infer/tiling.py", "_run"),
    ("  network on tiles", "models/registry.py", "run"),
    ("    of which in the ONNX runtime", "infer/backends.py", "__call__"),
    ("  tile extract/pad", "infer/tiling.py", "_extract"),
    ("develop (LibRaw AHD + colour)", "io/develop.py", "develop"),
    ("  LibRaw postprocess", "io/raw.py", "postprocess"),
    ("save (encode + metadata + commit)", "io/export.py", "save_image"),
    ("  quantise", "io/export.py", "quantise"),
    ("  TIFF encode", "io/export.py", "_write_tiff"),
    ("  JPEG encode", "io/export.py", "_write_jpg"),
    ("  metadata blocks", "io/export.py", "_blocks"),
    ("  EXIF into the file (exiv2)", "pyexiv2/core.py", "modify_exif"),
    ("  commit (fsync, link)", "io/export.py", "_commit"),
]


def _cumtime(stats: pstats.Stats, suffix: str, name: str) -> tuple[float, int]:
    total, calls = 0.0, 0
    for (path, _line, func), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == name and path.replace(os.sep, "/").endswith(suffix):
            total += ct
            calls += nc
    return total, calls


def _inputs(a: argparse.Namespace, work: Path) -> Path:
    if a.input:
        return a.input
    raw = any(op.startswith("denoise") for op in a.op) and "srgb" not in " ".join(a.op)
    if raw:
        from denoise_raw_e2e import make_dng

        path = work / "raw24.dng"
        print(f"input: {make_dng(path, a.mp)}")
        return path
    from backends import _lowlight_photo

    path = work / "dark24.jpg"
    _lowlight_photo(path)
    print(f"input: {path.name} 6000x4000 (SCI demo shot, tiled)")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, default=None)
    ap.add_argument("--mp", type=float, default=24.0)
    ap.add_argument("--op", action="append", default=None)
    ap.add_argument("--format", default=None)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--tile", default=None, help="passed to run (default: the model's own tile policy)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the inputs and outputs here")
    ap.add_argument("--top", type=int, default=0, help="also the N functions with the most own time")
    a = ap.parse_args(argv)
    a.op = a.op or ["denoise:mode=raw"]
    with tempfile.TemporaryDirectory() as tmp:
        work = a.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        src = _inputs(a, work)
        shutil.rmtree(work / "out", ignore_errors=True)  # a batch folder's record would skip the photo as done
        args = ["run", str(src), "-o", str(work / "out"), "--device", "cpu", "--overwrite", "--backend", a.backend]
        for op in a.op:
            args += ["--op", op]
        if a.format:
            args += ["--format", a.format]
        if a.tile:
            args += ["--tile", a.tile]
        t0 = time.perf_counter()
        from app.cli import main as cli_main
        t_import = time.perf_counter() - t0
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        rc = cli_main(args)
        prof.disable()
        wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    print(f"photorestore {' '.join(args[2:])}: exit {rc}; import app.cli {t_import:.2f} s, run {wall:.2f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"{'stage':40s} {'seconds':>8s} {'calls':>6s}")
    for label, suffix, name in STAGES:
        sec, calls = _cumtime(stats, suffix, name)
        if calls:
            print(f"{label:40s} {sec:8.2f} {calls:6d}")
    if a.top:
        stats.sort_stats("tottime").print_stats(a.top)
    return int(rc or 0)


if __name__ == "__main__":
    raise SystemExit(main())
