"""``python -m app.train.loader_bench --bench``: is the 2-core CPU busy with the model or with the data?

For each config, with the decoded-image cache primed (the steady state after the first epoch; the
priming itself, one decode of every source image, is timed separately), it measures:

* model alone: seconds per optimiser step on a fixed batch, with 1 and 2 torch threads;
* loader alone: samples/s of the DataLoader with ``num_workers`` 0 and 1;
* both together: the real loop's time per step for each ``num_workers`` (the number that decides).

On a shared machine every figure moves with the other load; compare figures of one run only.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from app.train.config import load_config, merge
from app.train.datasets import parts_of, prime_cache
from app.train.loader import build_loader
from app.train.runner import Runner


def _sync() -> None:
    # CUDA kernels run asynchronously: a step's time is only known once the device has finished.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _timed(fn, n: int) -> float:
    _sync()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    _sync()
    return (time.perf_counter() - start) / n


def bench_config(name: str, *, batches: int, device: str, threads: int | None = None) -> list[str]:
    """Measure one config; returns printable lines."""
    cfg = load_config(name)
    if threads:
        cfg = merge(cfg, {"threads": threads})
    batch = cfg["data"]["batch"]
    lines = [f"== {name}: task {cfg['task']}, batch {batch} x {cfg['data']['patch']} px, device {device}"]
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(cfg, device=device, run_dir=tmp)
        n_images = sum(len(p.image_keys()) for p in parts_of(runner.train_set))
        t0 = time.perf_counter()
        cached = prime_cache(runner.train_set)
        lines.append(f"prime cache: {n_images} images decoded in {time.perf_counter() - t0:.1f} s, "
                     f"{cached / 2**20:.0f} MiB held")
        fixed = runner._to_device(next(iter(build_loader(runner.train_set, batch=batch))))
        step_s = {}
        for n in ((1, 2) if device == "cpu" else (cfg["threads"],)):
            torch.set_num_threads(n)
            runner.train_step(fixed)  # warm-up (allocator, oneDNN kernels)
            step_s[n] = _timed(lambda: runner.train_step(fixed), max(3, batches // 3))
            lines.append(f"model step alone, {n} thread(s): {step_s[n] * 1000:8.1f} ms/step "
                         f"= {batch / step_s[n]:.1f} samples/s")
        torch.set_num_threads(cfg["threads"])
        ref = step_s.get(cfg["threads"], next(iter(step_s.values())))
        for workers in (0, 1):
            it = iter(build_loader(runner.train_set, batch=batch, seed=1, num_workers=workers))
            next(it)  # worker start-up is a one-off cost
            load_s = _timed(lambda it=it: next(it), batches)
            loop_s = _timed(lambda it=it: runner.train_step(runner._to_device(next(it))), batches)
            lines.append(f"num_workers={workers}: loader alone {batch / load_s:7.1f} samples/s "
                         f"({load_s * 1000:.1f} ms/batch = {100 * load_s / ref:.0f}% of a model step); "
                         f"train loop ({cfg['threads']} threads) {loop_s * 1000:.1f} ms/step "
                         f"({100 * (loop_s / ref - 1):+.0f}% vs model alone)")
            del it
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.train.datasets", description=__doc__.split("\n")[0])
    p.add_argument("--bench", action="store_true", help="run the loader benchmark")
    p.add_argument("--config", action="append", help="config(s) to measure (default: every config)")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--threads", type=int, help="torch threads of the training loop (default: the config's)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = p.parse_args(argv)
    if not args.bench:
        p.print_help()
        return 0
    from app.train.config import CONFIG_DIR

    names = args.config or sorted(q.stem for q in CONFIG_DIR.glob("*.toml"))
    for name in names:
        try:
            lines = bench_config(name, batches=args.batches, device=args.device, threads=args.threads)
        except (ImportError, ValueError) as exc:  # a task whose model family is not there yet
            lines = [f"== {name}: skipped ({exc})"]
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
