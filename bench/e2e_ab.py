"""Two checkouts, one CLI command, fresh processes, alternated: the end-to-end speed ratio of a change.

    git archive <old-commit> | tar -x -C /tmp/old          # the code before the change
    python bench/e2e_ab.py --old /tmp/old [--new .] [--input FILE] [--repeats 2] [-- extra run args]

Without ``--input`` it makes the issue-23 RAW (``bench/denoise_raw_e2e.py``: the Canon 30D mosaic tiled to
24 MP as a DNG) and runs ``photorestore run FILE --device cpu --op denoise:mode=raw`` (extra arguments after
``--`` replace the op). Each run is ``python -m app run`` in a new process with ``PYTHONPATH`` set to the
tree, so imports, decode, the network, development and the export are all counted; old and new alternate
so a changing machine load hits both. Prints each run with the load average before it and its CPU seconds,
the best and median of each tree, the ratio of the bests, and how far the two trees' last outputs are
apart (max abs difference in output units and PSNR, per file: what a change costs in quality, if any).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, default=ROOT)
    ap.add_argument("--input", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = a.input
        if src is None:
            from denoise_raw_e2e import make_dng

            src = Path(tmp) / "raw24.dng"
            print(f"input: {make_dng(src, 24.0)}")
        ops = extra or ["--op", "denoise:mode=raw"]
        trees = {"old": a.old.resolve(), "new": a.new.resolve()}
        walls: dict[str, list[float]] = {k: [] for k in trees}
        cpus: dict[str, list[float]] = {k: [] for k in trees}
        for r in range(a.repeats):
            for name, tree in trees.items():
                out = Path(tmp) / f"out_{name}"
                shutil.rmtree(out, ignore_errors=True)  # a batch record would skip the photo as done
                env = {**os.environ, "PYTHONPATH": str(tree)}
                load = os.getloadavg()[0]
                c0 = _children_cpu()
                t0 = time.perf_counter()
                res = subprocess.run([sys.executable, "-m", "app", "run", str(src), "-o", str(out), "--device", "cpu",
                                      *ops], cwd=tree, env=env, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                cpu = _children_cpu() - c0
                if res.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{res.stderr[-2000:]}")
                kinds = (".tif", ".jpg", ".png", ".dng")
                size = sum(f.stat().st_size for f in out.iterdir() if f.suffix in kinds) / 1e6
                walls[name].append(wall)
                cpus[name].append(cpu)
                print(f"{name} run {r}: {wall:6.2f} s, {cpu:6.2f} CPU-s (load average before {load:.1f}), "
                      f"output {size:.0f} MB", flush=True)
            if r == a.repeats - 1:
                _compare(Path(tmp) / "out_old", Path(tmp) / "out_new")
    for name, v in walls.items():
        print(f"{name}: best {min(v):.2f} s, median {statistics.median(v):.2f} s; "
              f"CPU median {statistics.median(cpus[name]):.2f} s")
    print(f"old/new (best): {min(walls['old']) / min(walls['new']):.2f}x")
    return 0


def _children_cpu() -> float:
    """User + system seconds of the finished children: the work a run did, less sensitive to the load than
    its wall time on a shared machine (not the same thing: a serial stage leaves a core idle)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _compare(old: Path, new: Path) -> None:
    """Max abs difference and PSNR of each output image the two trees wrote (decoded at full depth)."""
    import numpy as np

    from app.core.io import load_image

    for f in sorted(old.iterdir()):
        if f.suffix not in (".tif", ".jpg", ".png") or not (new / f.name).is_file():
            continue
        a, b = load_image(f).data.astype(np.float64), load_image(new / f.name).data.astype(np.float64)
        diff = np.abs(a - b)
        mse = float(np.mean(diff**2))
        psnr = f"{10 * np.log10(1 / mse):.1f} dB" if mse > 0 else "identical"
        print(f"{f.name}: old vs new max abs diff {diff.max() * 65535:.0f}/65535, PSNR {psnr}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
