"""Implementations of the CLI subcommands (argparse lives in cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli_run import cmd_run  # noqa: F401 - dispatched by name from cli.main


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _file_error(src: Path, exc: Exception) -> str:
    """``name: error: reason``, one line per failed file (I/O errors carry the name in str() already)."""
    return f"{src.name}: error: {getattr(exc, 'reason', None) or exc}"


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
