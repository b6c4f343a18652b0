"""Command line of the training runner.

``python -m app.train CONFIG [--device cpu|cuda] [--resume] [--max-minutes N] [--max-steps N] [--export]``
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from app.train import checkpoint as ckpt_io


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m app.train", description="Train (and export) a model.")
    p.add_argument("config", help="config file, or a name in app/train/configs/ (e.g. tiny_test)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--run-dir", type=Path,
                   help="checkpoints and logs (default ~/.cache/photorestore/runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue from the latest checkpoint, if any")
    p.add_argument("--allow-config-change", action="store_true",
                   help="resume even if the config hash differs from the checkpoint's")
    p.add_argument("--max-minutes", type=float,
                   help="stop (after a checkpoint) when this session has run N minutes; 0: no step "
                        "(with --resume --export, export the latest checkpoint as it is)")
    p.add_argument("--max-steps", type=int,
                   help="stop at global step N (the schedule still follows the config's steps)")
    p.add_argument("--threads", type=int,
                   help="torch CPU threads (default: the config's; 1 on a busy shared machine)")
    p.add_argument("--workers", type=int,
                   help="data-loader worker processes (default: the config's; 4-8 on a GPU machine)")
    p.add_argument("--bf16", action="store_true",
                   help="CPU: train under bfloat16 autocast (validation stays float32; docs/performance.md)")
    p.add_argument("--export", action="store_true",
                   help="then export weights + card + manifest entry, and the verified ONNX export")
    p.add_argument("--models-dir", type=Path,
                   help="export target (default: $PHOTORESTORE_MODELS_DIR, else the repo's models/)")
    p.add_argument("--validate", action="store_true", help="only score the latest checkpoint on validation")
    return p.parse_args(argv)


def _stop_on_sigterm() -> None:
    """``kill`` stops a run like Ctrl+C: checkpoint first. (A job started with ``nohup ... &`` ignores
    SIGINT, so before this a background run could only be killed between checkpoints.)"""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    from app.train.config import load_config
    from app.train.runner import Runner

    overrides: dict = {}
    if args.threads:
        overrides["threads"] = args.threads
    if args.workers is not None:
        overrides["data"] = {"num_workers": args.workers}
    cfg = load_config(args.config, overrides)
    argv_used = sys.argv[1:] if argv is None else argv
    command = "python -m app.train " + shlex.join(argv_used)
    runner = Runner(cfg, device=args.device, run_dir=args.run_dir, command=command, bf16=args.bf16)
    latest = ckpt_io.latest_path(runner.run_dir)
    if latest.exists():
        if not (args.resume or args.validate):
            print(f"{latest} exists: pass --resume to continue it, or use another --run-dir", file=sys.stderr)
            return 2
        runner.load(latest, allow_config_change=args.allow_config_change)
        print(f"resumed {cfg['name']} at step {runner.step} from {latest}")
    elif args.validate:
        print(f"no checkpoint in {runner.run_dir}", file=sys.stderr)
        return 2
    if args.validate:
        print(runner.validate())
        return 0
    _stop_on_sigterm()
    status = runner.train(max_steps=args.max_steps, max_minutes=args.max_minutes)
    print(f"{status}: step {runner.step}/{cfg['train']['steps']}, checkpoint {latest}")
    if args.export:
        from app.train.exporting import export_run

        path = export_run(runner, models_dir=args.models_dir)
        print(f"exported {path}")
        from app.core.models.onnx_export import EXPORTED
        from app.train.export_onnx import export_ids

        model_id = path.name.rsplit("-", 1)[0]
        if model_id in EXPORTED and export_ids([model_id], directory=args.models_dir):
            return 1  # the ONNX export drifted from torch: said loudly on stderr
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
