"""Implementations of the CLI subcommands (argparse lives in cli.py)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from app.cli_progress import ProgressBar
from app.core.workflow.auto import AUTO, expand_auto  # the one Auto, shared with the GUI


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _file_error(src: Path, exc: Exception) -> str:
    """``name: error: reason``, one line per failed file (I/O errors carry the name in str() already)."""
    return f"{src.name}: error: {getattr(exc, 'reason', None) or exc}"


def build_steps(args: argparse.Namespace) -> list:
    from app.core.pipeline import Recipe, parse_op_arg

    steps = list(Recipe.load(args.recipe).steps) if args.recipe else []
    steps += [AUTO if text.strip() == AUTO else parse_op_arg(text) for text in args.op]
    return steps


def output_path(src: Path, outdir: Path, fmt: str, taken: set[str]) -> Path:
    """``outdir/<stem>.<ext>`` for ``src``'s result, distinct from every name taken earlier in this run
    (``photo.jpg`` from three folders: ``photo.jpg``, ``photo-jpg.jpg``, ``photo-jpg-2.jpg``)."""
    from app.core.io.naming import claim_name

    ext = {"jpg": ".jpg", "png": ".png", "png16": ".png", "tiff16": ".tif", "dng": ".dng"}[fmt]
    return claim_name(outdir / (src.stem + ext), src.suffix.lstrip(".").lower(), taken)


def cmd_run(args: argparse.Namespace) -> int:
    from app.core.context import Cancelled, RunContext
    from app.core.io import ImageIOError
    from app.core.io.export import remove_stale_partials
    from app.core.models.weights import ModelUnavailableError
    from app.core.pipeline import OpUnavailableError, RecipeError
    from app.core.workflow import ExportOptions, default_format, dng_kind_for, export_image, open_photo

    started = time.time()
    try:
        steps = build_steps(args)
    except RecipeError as exc:
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
    inputs = [Path(p) for p in args.inputs]
    protect = [p.resolve() for p in inputs if p.exists()]
    cancel = threading.Event()
    stopped_by: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # SIGTERM (kill, logout, a service manager) like Ctrl-C: finish or abandon the current write
        # cleanly (never a half-written or leftover file), then stop.
        stopped_by.append(signum)
        cancel.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed, taken = 0, set()
    try:
        for k, src in enumerate(inputs):
            if cancel.is_set():
                # the signal came while the previous file was being finished: say so for what is left
                _err(f"photorestore: cancelled; {len(inputs) - k} file(s) not processed, from {src.name}")
                break
            bar = ProgressBar(src.name)
            ctx = RunContext(bar, cancel, device=args.device, backend=args.backend, tile=args.tile)
            try:
                image = open_photo(src)  # the one RAW policy: a mosaic where there is one (RAW ops run)
                for note in image.meta.extra.get("notes", ()) if image.meta else ():
                    _err(f"{src.name}: note: {note}")
                fmt = args.format or default_format(image)
                dest = output_path(src, outdir, fmt, taken)
                file_steps, reasons = expand_auto(steps, image)
                for reason in reasons:
                    _err(f"{src.name}: {reason}")
                # DNG: a JPEG is refused here in one line; which DNG is decided from the plan, before any work
                kind = f" ({dng_kind_for(image, file_steps)})" if fmt == "dng" else ""
                opts = ExportOptions(fmt, args.quality, keep_metadata=not args.strip_metadata,
                                     overwrite=args.overwrite)
                export_image(image, file_steps, dest, opts, ctx, protect=protect)
                del image
                bar.close()
                for note in ctx.warnings:
                    _err(f"{src.name}: note: {note}")
                print(f"{src.name} -> {dest}{kind}")
            except Cancelled:
                bar.close()
                _err(f"{src.name}: cancelled")
                failed += 1
                break
            except ImageIOError as exc:
                bar.close()
                _err(_file_error(src, exc))
                failed += 1
            except (OpUnavailableError, ModelUnavailableError, RecipeError, ValueError) as exc:
                bar.close()
                _err(f"{src.name}: error: {exc}")
                failed += 1
            except MemoryError:
                bar.close()
                _err(f"{src.name}: error: out of memory (try a smaller --tile)")
                failed += 1
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                bar.close()
                _err(f"{src.name}: error: {type(exc).__name__}: {exc}")
                failed += 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if cancel.is_set():
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
    return 1 if failed else 0


def cmd_ops(args: argparse.Namespace) -> int:
    from app.core.ops import all_ops, param_specs

    for op in all_ops():
        ok, why = op.availability()
        # Available with a reason = one route works, another does not (e.g. denoise's RAW model is fine but
        # its sRGB model is corrupt): say so, or the listing claims more than a run can do.
        state = f"  [partly unavailable: {why}]" if ok and why else "" if ok else f"  [unavailable: {why}]"
        print(f"{op.id:14s} {op.label}{state}")
        if op.description:
            print(f"{'':14s} {op.description}")
        for s in param_specs(op.Params):
            rng = f" [{s.min:g}..{s.max:g}]" if s.min is not None and s.max is not None else ""
            ch = f" {{{'|'.join(s.choices)}}}" if s.choices else ""
            print(f"{'':16s}{s.name}={s.default}{rng}{ch}  {s.label}" + (f" - {s.help}" if s.help else ""))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from app.core.models.registry import descriptors, model_state

    rows = [(d.id, model_state(d.id)) for d in descriptors()]
    if not rows:
        print("no models registered")
    for mid, state in rows:
        print(f"{mid:28s} {state.name:10s} {state.message}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from app.core.io import ImageIOError
    from app.core.metrics.compare import analyze, format_analyze
    from app.core.workflow.auto import plan_auto

    failed = 0
    for name in args.files:
        try:
            print(format_analyze(analyze(name, planner=plan_auto)))
        except (ImageIOError, ValueError) as exc:
            _err(_file_error(Path(name), exc))
            failed += 1
    return 1 if failed else 0


def cmd_compare(args: argparse.Namespace) -> int:
    from app.core.io import ImageIOError
    from app.core.metrics.compare import compare, format_compare

    try:
        result = compare(args.a, args.b)
    except (ImageIOError, ValueError) as exc:
        _err(f"photorestore compare: {exc}")
        return 1
    print(format_compare(result, (Path(args.a).name, Path(args.b).name)))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import runpy

    bench = Path(__file__).resolve().parents[1] / "bench" / "quality.py"
    if not bench.exists():
        _err("photorestore eval needs a source checkout (bench/quality.py)")
        return 2
    sys.argv = [str(bench), *args.rest]
    runpy.run_path(str(bench), run_name="__main__")
    return 0
