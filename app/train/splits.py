"""The fixed train/validation split, by scene, recorded in ``app/train/splits.json``.

Scenes (see :mod:`app.train.sources`) are ordered by a SHA-256 of ``source/scene`` and the first
``round(fraction * n)`` go to validation: the assignment depends on nothing but the names, so
regenerating it on any machine gives the same file. GoPro frames are split by contiguous frame ranges
with an unused gap in between, because neighbouring 240-fps frames are near duplicates.

The recorded file is the source of truth; ``python -m app.train.splits --check`` verifies that it still
covers the data on disk, ``--write`` regenerates it (sources absent on this machine, such as the
wallpapers on a CI runner, keep their recorded entry).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.train.sources import SOURCES, Item, list_gopro, list_items

SPLITS_FILE = Path(__file__).with_name("splits.json")
VERSION = 1
VAL_FRACTION = {"clean": 0.10, "noise_pairs": 0.20, "lowlight_sequences": 0.15}
#: GoPro: the last ``GOPRO_VAL`` frames validate, the ``GOPRO_GAP`` frames before them are unused
#: (more than the longest averaging window, 15 frames).
GOPRO_VAL = 40
GOPRO_GAP = 20


def _order_key(source: str, scene: str) -> str:
    return hashlib.sha256(f"{source}/{scene}".encode()).hexdigest()


def split_scenes(source: str, scenes: list[str], fraction: float) -> dict[str, list[str]]:
    """Assign whole scenes to ``train`` / ``val`` by hash order.

    Args:
        source: source name (salts the hash so sources split independently).
        scenes: scene keys (duplicates ignored).
        fraction: share of scenes for validation, rounded to the nearest count.

    Returns:
        ``{"train": [...], "val": [...]}``, each sorted.
    """
    unique = sorted(set(scenes))
    n_val = round(fraction * len(unique))
    ordered = sorted(unique, key=lambda s: _order_key(source, s))
    return {"train": sorted(ordered[n_val:]), "val": sorted(ordered[:n_val])}


def gopro_ranges(n_frames: int) -> dict[str, list[int]]:
    """Inclusive 1-based frame ranges: train, unused gap, validation."""
    val_start = n_frames - GOPRO_VAL + 1
    gap_start = val_start - GOPRO_GAP
    return {"train": [1, gap_start - 1], "gap": [gap_start, val_start - 1], "val": [val_start, n_frames]}


def compute_splits(existing: dict | None = None) -> dict:
    """Split every source present on disk; absent sources keep their entry from ``existing``."""
    out: dict = {"version": VERSION, "method": "sha256(source/scene) order; first round(fraction*n) -> val",
                 "sources": {}}
    old = (existing or {}).get("sources", {})
    for name, src in SOURCES.items():
        if src.kind == "blur_frames":
            frames = list_gopro()
            entry = {"unit": "frame_range", **gopro_ranges(len(frames))} if frames else old.get(name)
        else:
            scenes = [it.scene for it in list_items(name)]
            entry = ({"unit": "scene", "fraction": VAL_FRACTION[src.kind],
                      **split_scenes(name, scenes, VAL_FRACTION[src.kind])} if scenes else old.get(name))
        if entry is not None:
            out["sources"][name] = entry
    return out


@dataclass(frozen=True)
class Splits:
    """Read access to a recorded split."""

    data: dict

    def scenes(self, source: str, split: str) -> frozenset[str]:
        """Scene keys of ``source`` in ``split`` (``train`` or ``val``)."""
        entry = self.data["sources"].get(source)
        if entry is None or entry.get("unit") != "scene":
            raise KeyError(f"no scene split recorded for source {source!r}")
        return frozenset(entry[split])

    def items(self, source: str, split: str) -> list[Item]:
        """Items on disk whose scene is in ``split``; items of unrecorded scenes are left out (warned by
        ``--check``), so new files never leak into validation silently."""
        wanted = self.scenes(source, split)
        return [it for it in list_items(source) if it.scene in wanted]

    def items_holdout(self, source: str, split: str, fraction: float) -> list[Item]:
        """Like :meth:`items` for ``split`` = ``train`` / ``val``, plus ``train-fit`` / ``train-holdout``: the
        training scenes without / with a held-out ``fraction`` (hash order again, salted differently), so a
        run can watch its progress on training photos it never fits, and leave the validation split for the
        one evaluation at the end."""
        if split not in ("train-fit", "train-holdout"):
            return self.items(source, split)
        scenes = sorted(self.scenes(source, "train"), key=lambda s: _order_key("holdout/" + source, s))
        held = frozenset(scenes[: max(1, round(fraction * len(scenes)))])
        return [it for it in self.items(source, "train") if (it.scene in held) == (split == "train-holdout")]

    def gopro_frames(self, split: str) -> list[Path]:
        """GoPro frame paths of ``split`` in temporal order."""
        entry = self.data["sources"]["gopro"]
        first, last = entry[split]
        return [p for p in list_gopro() if first <= int(p.stem) <= last]


@cache
def _load(path: str) -> Splits:
    return Splits(json.loads(Path(path).read_text()))


def load_splits(path: str | Path | None = None) -> Splits:
    """The recorded split (cached per path)."""
    return _load(str(Path(path or SPLITS_FILE).resolve()))


def summary(splits: Splits) -> list[tuple[str, str, int, int, int, int]]:
    """Rows ``(source, unit, train_units, val_units, train_items, val_items)`` for what is on disk."""
    rows = []
    for name, entry in splits.data["sources"].items():
        if entry["unit"] == "frame_range":
            tr, va = splits.gopro_frames("train"), splits.gopro_frames("val")
            rows.append((name, "frames", len(tr), len(va), len(tr), len(va)))
        else:
            tr, va = splits.items(name, "train"), splits.items(name, "val")
            rows.append((name, "scenes", len(entry["train"]), len(entry["val"]), len(tr), len(va)))
    return rows


def _main() -> int:
    parser = argparse.ArgumentParser(prog="python -m app.train.splits", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="regenerate splits.json from the data on disk")
    parser.add_argument("--check", action="store_true", help="exit 1 if splits.json differs from the data")
    args = parser.parse_args()
    existing = json.loads(SPLITS_FILE.read_text()) if SPLITS_FILE.is_file() else None
    computed = compute_splits(existing)
    if args.write:
        SPLITS_FILE.write_text(json.dumps(computed, indent=1, sort_keys=True) + "\n")
        _load.cache_clear()
    splits = load_splits()
    print(f"{'source':18s} {'unit':7s} {'train':>6s} {'val':>5s}  {'train items':>11s} {'val items':>9s}")
    for name, unit, tr, va, tri, vai in summary(splits):
        print(f"{name:18s} {unit:7s} {tr:6d} {va:5d}  {tri:11d} {vai:9d}")
    if args.check and computed != splits.data:
        print("splits.json is out of date with the data on disk (python -m app.train.splits --write)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
