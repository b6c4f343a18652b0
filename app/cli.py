"""Command line: ``photorestore`` opens the GUI; subcommands run the same core headless."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from app import __version__

SUBCOMMANDS = ("run", "models", "ops", "analyze", "compare", "eval")
FORMATS = ("jpg", "png", "png16", "tiff16", "dng")


def _bounded_int(lo: int, hi: int, hint: str = "") -> Callable[[str], int]:
    """argparse type: a whole number in [lo, hi], checked before any file is touched."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}{hint}")
        return value

    return convert


def _parser() -> argparse.ArgumentParser:
    from app.core.context import TILE_RANGE


    p = argparse.ArgumentParser(prog="photorestore", description="Restore photos: denoise, deblur, low light.")
    p.add_argument("--version", action="version", version=f"photorestore {__version__}")
    p.add_argument("--selftest", action="store_true", help="decode, run every available op, export; exit 0 if OK")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("run", help="process files headless")
    r.add_argument("inputs", nargs="+", help="RAW or raster files, or folders of them")
    r.add_argument("-o", "--outdir", required=True,
                   help="output folder (created if missing); its photorestore-batch.json records what was "
                   "done, so running the same command again resumes (see docs/batch.md)")
    r.add_argument("-r", "--recursive", action="store_true", help="also take the photos in sub-folders")
    r.add_argument("-j", "--jobs", type=_bounded_int(1, 256), default=None,
                   help="worker processes (default: none, the photos run in this process); CPU threads are split "
                   "between them; "
                   "with CUDA GPUs one worker per GPU is the useful number")
    r.add_argument("--cluster", nargs="?", const="auto", default=None, metavar="ADDRESS",
                   help="run the photos on a Ray cluster: ray://HOST:PORT, HOST:PORT, auto (RAY_ADDRESS; the "
                   "default without a value) or local; needs pip install 'photorestore[cluster]' and the "
                   "inputs and output folder at the same paths on every node (docs/batch.md)")
    r.add_argument("--op", action="append", default=[], metavar="NAME[:key=value,...]",
                   help="an op to run, in order; repeatable (see `photorestore ops`); "
                   "`auto` runs the recipe the photo analysis proposes")
    r.add_argument("--recipe", help="a recipe JSON saved by the app (its ops run before any --op)")
    r.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: jpg; tiff16 for RAW); dng: RAW in, RAW out (CFA DNG of the "
                   "processed mosaic, or a linear DNG when the recipe has sRGB ops)")
    r.add_argument("--quality", type=_bounded_int(1, 100), default=92, help="JPEG quality 1-100")
    r.add_argument("--compress", action="store_true",
                   help="TIFF: deflate-compress (about 40 %% smaller, a few seconds slower on a 24-MP photo; "
                   "default: uncompressed)")
    r.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    # = app.core.infer.backends.BACKEND_CHOICES (spelled out: importing it would import torch to print --help)
    r.add_argument("--backend", choices=("auto", "torch", "openvino", "onnxruntime"), default="auto",
                   help="CPU inference runtime (default auto: OpenVINO if installed; GPUs always use torch)")
    r.add_argument("--tile", type=_bounded_int(*TILE_RANGE, " (leave --tile out for automatic)"), default=None,
                   help=f"tile edge in pixels, {TILE_RANGE[0]}-{TILE_RANGE[1]}; a model needing more overlap uses "
                   "its minimum (default: from free memory)")
    r.add_argument("--overwrite", action="store_true", help="replace existing outputs (never the inputs)")
    r.add_argument("--strip-metadata", action="store_true", help="do not copy EXIF to the outputs")

    sub.add_parser("models", help="list registered models and their state")
    sub.add_parser("ops", help="list ops and their parameters")
    a = sub.add_parser("analyze", help="estimate noise, blur, exposure, JPEG blockiness; propose a recipe")
    a.add_argument("files", nargs="+", metavar="FILE")
    c = sub.add_parser("compare", help="PSNR/SSIM between two images")
    c.add_argument("a")
    c.add_argument("b")
    e = sub.add_parser("eval", help="quality benchmark on the validation splits (bench/quality.py)")
    e.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen app's --jobs workers re-enter here (no-op otherwise)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:
        return _gui(argv)  # `photorestore photo.CR2` opens it in the app
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.selftest:
        from app.selftest import selftest

        return selftest()
    if args.command is None:
        return _gui([])
    from app import cli_commands

    return getattr(cli_commands, f"cmd_{args.command}")(args)


def _gui(paths: list[str]) -> int:
    try:
        from app.gui.app import run_gui
    except ImportError as exc:  # PySide6 missing or broken: say so instead of a traceback
        print(f"photorestore: the GUI cannot start ({exc}); use `photorestore run ...`", file=sys.stderr)
        return 2
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"photorestore: no such file: {missing[0]}", file=sys.stderr)
        return 2
    from app.qt_preflight import check_gui_platform

    problem = check_gui_platform()  # before any QApplication: Qt aborts the process on a broken plugin
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return run_gui(paths)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
