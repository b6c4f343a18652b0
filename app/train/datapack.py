"""Pack the images one config trains and validates on into a small folder that can travel.

A lent GPU machine gets the repository and at most 64 MiB of carried files, not ``../shared/datasets``
nor the wallpaper cache. ``python -m app.train.datapack CONFIG --out .datapack`` writes::

    .datapack/datasets/<same layout as ../shared/datasets, only the files the config uses>
    .datapack/wallpapers/<lomiri|mate|plasma>/<name>.jpg

and the run on the device points the runner at it with ``PHOTORESTORE_DATASETS=.datapack/datasets
PHOTORESTORE_WALLPAPERS=.datapack/wallpapers``. File stems are kept, so scene keys and hence the
recorded split are unchanged. Clean photos are stored shrunk to ``--max-side`` as JPEG q95 (the loader
shrinks them on decode anyway; at q95 the re-encoding is far below the noise the models learn);
real noisy pairs, exposure sequences and video frames are copied byte for byte, since re-encoding
would change their noise.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cv2

from app.train.config import load_config
from app.train.imcache import decode_rgb
from app.train.sources import SOURCES, datasets_root, wallpaper_root
from app.train.splits import load_splits


def _dest(out: Path, path: Path) -> Path:
    """Where ``path`` (under the datasets root or the wallpaper cache) goes inside the pack."""
    for base, sub in ((datasets_root(), "datasets"), (wallpaper_root(), "wallpapers")):
        try:
            return out / sub / path.relative_to(base)
        except ValueError:
            continue
    raise ValueError(f"{path} is neither under {datasets_root()} nor under {wallpaper_root()}")


def pack(cfg: dict, out: Path, *, max_side: int | None = None, quality: int = 95) -> tuple[int, int]:
    """Write the pack for ``cfg``; returns ``(files, bytes)`` written."""
    splits = load_splits()
    max_side = max_side or cfg["data"]["clean_max_side"]
    wanted = {"train": {s["name"] for s in cfg["data"]["sources"]},
              "val": {s["name"] for s in cfg["val"].get("sources") or cfg["data"]["sources"]}}
    files = total = 0
    for name in sorted(wanted["train"] | wanted["val"]):
        kind = SOURCES[name].kind
        for split in (s for s in ("train", "val") if name in wanted[s]):
            if kind == "blur_frames":
                paths = splits.gopro_frames(split)
            else:
                paths = [p for it in splits.items(name, split) for p in it.paths]
            for path in paths:
                dest = _dest(out, path)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if kind == "clean":
                    dest = dest.with_suffix(".jpg")
                    bgr = cv2.cvtColor(decode_rgb(path, max_side), cv2.COLOR_RGB2BGR)
                    if not cv2.imwrite(str(dest), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality]):
                        raise OSError(f"could not write {dest}")
                else:
                    shutil.copyfile(path, dest)
                files += 1
                total += dest.stat().st_size
        if kind == "lowlight_sequences":
            table = datasets_root() / SOURCES[name].rel / "sequences.csv"
            shutil.copyfile(table, _dest(out, table))
        if name == "wallpapers":  # the licence texts travel with the photos
            for text in wallpaper_root().glob("*/COPYRIGHT*"):
                shutil.copyfile(text, _dest(out, text))
    return files, total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.train.datapack", description=__doc__.split("\n")[0])
    p.add_argument("config")
    p.add_argument("--out", type=Path, default=Path(".datapack"))
    p.add_argument("--max-side", type=int, help="long side of clean photos (default: data.clean_max_side)")
    p.add_argument("--quality", type=int, default=95)
    args = p.parse_args(argv)
    files, size = pack(load_config(args.config), args.out, max_side=args.max_side, quality=args.quality)
    print(f"{files} files, {size / 2**20:.1f} MiB in {args.out}")
    print(f"use: PHOTORESTORE_DATASETS={args.out}/datasets PHOTORESTORE_WALLPAPERS={args.out}/wallpapers "
          f"python -m app.train {args.config} ...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
