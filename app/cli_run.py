"""``photorestore run``: a resumable batch (app.core.batch) with a progress bar, one line per photo and a
summary. Ctrl-C and SIGTERM stop it cleanly: photos in hand are abandoned without a partial file and stay
on record as not done, so the same command resumes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from app.cli_progress import ProgressBar
from app.core.workflow.auto import AUTO  # the one Auto, shared with the GUI


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def build_steps(args: argparse.Namespace) -> list:
    from app.core.pipeline import Recipe, parse_op_arg

    steps = list(Recipe.load(args.recipe).steps) if args.recipe else []
    steps += [AUTO if text.strip() == AUTO else parse_op_arg(text) for text in args.op]
    return steps


def make_executor(args: argparse.Namespace):  # noqa: ANN201 - an app.core.batch executor
    """In this process without ``--jobs`` (or with 1 on the CPU), else worker processes with devices assigned."""
    from app.core.batch.local import ProcessExecutor, SerialExecutor

    if getattr(args, "cluster", None):
        from app.core.batch.cluster import ClusterError
        from app.core.batch.ray_executor import RayExecutor

        if args.jobs is not None:
            raise ClusterError("--jobs is for one machine; with --cluster every node gets one worker per device")
        return RayExecutor(args.cluster, args.device, args.backend)
    if args.jobs is None:
        return SerialExecutor(args.device, args.backend)
    from app.core.batch.devices import plan_workers
    from app.core.infer.device import cpu_thread_count, cuda_available, mps_available

    gpus = 0
    if args.device != "cpu" and cuda_available():
        import torch

        gpus = torch.cuda.device_count()
    workers = plan_workers(args.jobs, args.device, gpus=gpus, cores=cpu_thread_count(), mps=mps_available())
    return ProcessExecutor(workers, args.backend)


def _printer(outdir: Path):  # noqa: ANN202 - (job, result) -> None
    def on_result(job, result) -> None:  # noqa: ANN001
        from app.core.batch import CANCELLED, DONE

        for line in result.messages:
            _err(f"{job.name}: {line}")
        if result.status == DONE:
            kind = f" ({result.kind})" if result.kind else ""
            print(f"{job.name} -> {outdir / Path(job.output).name}{kind}", flush=True)
        elif result.status == CANCELLED:
            _err(f"{job.name}: cancelled")
        else:
            _err(f"{job.name}: error: {result.error}")

    return on_result


def cmd_run(args: argparse.Namespace) -> int:
    from app.core.batch import BatchRun, Manifest, ManifestError, expand_inputs, plan_batch
    from app.core.batch.cluster import ClusterError
    from app.core.io.export import remove_stale_partials
    from app.core.pipeline import RecipeError
    from app.core.workflow import ExportOptions

    started = time.time()
    try:
        steps = build_steps(args)
        executor = make_executor(args)
    except (RecipeError, ClusterError) as exc:
        _err(f"photorestore: {exc}")
        return 2
    outdir = Path(args.outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _err(f"photorestore: cannot create output folder {outdir}: {exc.strerror}")
        return 2
    for stale in remove_stale_partials(outdir, started):
        _err(f"photorestore: note: removed {stale.name}, left by an interrupted earlier run")
    try:
        manifest = Manifest.load(outdir)
    except ManifestError as exc:
        _err(f"photorestore: {exc}")
        return 2
    sources, ours = expand_inputs(args.inputs, recursive=args.recursive, outdir=outdir)
    if not sources:
        _err("photorestore: no photos in " + ", ".join(args.inputs)
             + (f" ({len(ours)} exports of this app left out)" if ours else ""))
        return 2
    opts = ExportOptions("jpg", args.quality, keep_metadata=not args.strip_metadata, overwrite=args.overwrite,
                         compress=args.compress)
    plan = plan_batch(sources, outdir, steps, opts, manifest, format_choice=args.format, tile=args.tile)
    cancel = threading.Event()
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # SIGTERM (kill, logout, a service manager) like Ctrl-C: finish or abandon the photos in hand cleanly
        # (never a half-written or leftover file), then stop.
        stopped_by.append(signum)
        cancel.set()

    bar = ProgressBar(f"{len(plan.jobs)} photo(s)")
    run = BatchRun(plan, manifest, on_result=_printer(outdir), on_progress=bar)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    failure = ""
    try:
        executor.execute(plan.jobs, run, cancel)
    except ClusterError as exc:  # the cluster cannot run it (no Ray, a node without the shared folders...)
        failure = str(exc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        bar.close()
        summary = run.close()
    for line in summary.lines():
        print(line)
    if failure:
        _err(f"photorestore: {failure}")
        return 2
    if cancel.is_set():
        _err(f"photorestore: cancelled; {summary.not_processed} file(s) not processed (run the same command "
             "again to resume)")
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    return 1 if summary.failed else 0
