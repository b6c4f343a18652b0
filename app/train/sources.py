"""Catalogue of the training data: where each source lives, its licence, and its items grouped by scene.

Everything is read in place from ``../shared/datasets`` (never copied into the repo) plus the Debian
wallpaper photos that ``scripts/get_wallpaper_photos.sh`` extracts into the user cache. Each item carries
a *scene* key; :mod:`app.train.splits` assigns whole scenes to train or validation, so two crops of one
scene can never sit on both sides.

Scene rules (conservative: they may merge distinct scenes, never split one):

* clean sets: one photo = one scene, except stereo pairs (``*_left`` / ``*_right``) and numbered
  series (LIVE1 ``sailing1``..``sailing4``, ``lighthouse2``/``lighthouse3``), which share one.
* PolyU: crop names are ``Camera_f_shutter_ISO_scene_crop``; the scene is the *scene word only*, so the
  same room shot by two cameras or at two ISOs stays together. Full-resolution pairs (``Canon5D2_bicyc``)
  join the cropped scene whose word starts with theirs.
* SICE: the dataset held out every fourth sequence id for evaluation; the three ids between two held-out
  ids form one block and the block is our scene, because the heuristic grouping sometimes splits one
  tripod sequence over neighbouring rows (e.g. ids 145/146).
* GoPro: 220 consecutive frames of one video; split by contiguous frame ranges (see ``splits.py``).
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("photorestore.train")

IMAGE_EXTS = (".webp", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
WALLPAPER_SCRIPT = "scripts/get_wallpaper_photos.sh"


@dataclass(frozen=True)
class Source:
    """One data source and what its licence allows.

    Attributes:
        name: key used in configs and ``splits.json``.
        kind: ``clean`` (single photos), ``noise_pairs``, ``lowlight_sequences`` or ``blur_frames``.
        rel: folder relative to the datasets root (``wallpaper:`` prefix: relative to the wallpaper cache).
        licence: licence as stated by the source.
        nc: True when the licence is non-commercial; models trained on it inherit that restriction.
    """

    name: str
    kind: str
    rel: str
    licence: str
    nc: bool = False


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("sunhays80", "clean", "clean/sunhays80", "none stated"),
    Source("urban100", "clean", "clean/urban100", "none stated"),
    Source("live1", "clean", "clean/live1", "none stated"),
    Source("cycleisp_samples", "clean", "clean/cycleisp_samples", "non-commercial", nc=True),
    Source("package_samples", "clean", "clean/package_samples",
           "public domain / CC0 / CC BY 2.0 (scikit-image, scikit-learn, matplotlib samples)"),
    Source("wallpapers", "clean", "wallpaper:", "CC-BY / CC-BY-SA / CC0 / GPL-2+ per file (Debian wallpaper "
           "packages; see the COPYRIGHT files beside the photos)"),
    Source("polyu", "noise_pairs", "noise/polyu", "non-commercial (PolyU real-world noisy image dataset)",
           nc=True),
    Source("sice", "lowlight_sequences", "lowlight/sice", "CC BY-NC 4.0 (SICE part 1)", nc=True),
    Source("gopro", "blur_frames", "blur/gopro_GOPR0477_frames", "none stated (GoPro deblurring dataset)"),
)}


@dataclass(frozen=True)
class Item:
    """One unit a sampler draws from.

    Attributes:
        source: source name.
        scene: split key (see the module docstring).
        paths: clean photo ``(path,)``; pair ``(noisy, clean)``; sequence: frames dark to bright.
        lumas: mean luma (0-255) of each frame of a sequence; empty otherwise.
        key: stable id of the item inside its source (relative path or sequence id).
    """

    source: str
    scene: str
    paths: tuple[Path, ...]
    key: str
    lumas: tuple[float, ...] = field(default=())


def datasets_root() -> Path:
    """The shared datasets folder: ``$PHOTORESTORE_DATASETS`` or ``<repo>/../shared/datasets``."""
    env = os.environ.get("PHOTORESTORE_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "datasets"


def wallpaper_root() -> Path:
    """Where the wallpaper photos live: ``$PHOTORESTORE_WALLPAPERS`` or the user cache."""
    env = os.environ.get("PHOTORESTORE_WALLPAPERS")
    return Path(env) if env else Path.home() / ".cache" / "photorestore" / "wallpaper_photos"


def ensure_wallpapers(*, fetch: bool = False, timeout_s: float = 300.0) -> Path | None:
    """Return the wallpaper folder if it holds photos, fetching it first when allowed.

    The fetch runs the datasets' script (``apt-get download`` of four Debian packages). Any failure (no
    apt, no network, no script) is logged and answered with None: callers train without the wallpapers.
    """
    root = wallpaper_root()
    if any(root.glob("*/*.jpg")):
        return root
    script = datasets_root() / WALLPAPER_SCRIPT
    if not fetch or not script.is_file() or shutil.which("apt-get") is None:
        log.warning("wallpaper photos not found in %s; training without them (fetch with %s %s)",
                    root, script, root)
        return None
    log.info("fetching wallpaper photos into %s", root)
    try:
        subprocess.run(["bash", str(script), str(root)], check=True, timeout=timeout_s,
                       capture_output=True, text=True)
    except (subprocess.SubprocessError, OSError) as exc:
        log.warning("could not fetch the wallpaper photos (%s); training without them", exc)
        return None
    return root if any(root.glob("*/*.jpg")) else None


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def _clean_scene(rel_stem: str) -> str:
    # Stereo pairs show one scene twice; a word with a serial number is likely one shoot of one place.
    # Purely numeric names (cycleisp_samples "101111") are ids, not series.
    stem = re.sub(r"_(left|right)$", "", rel_stem)
    return re.sub(r"(?<=[A-Za-z])\d+$", "", stem)


def list_clean(name: str, *, root: Path | None = None) -> list[Item]:
    """Photos of a clean source (missing folder -> empty list)."""
    src = SOURCES[name]
    if src.rel.startswith("wallpaper:"):
        folder = wallpaper_root() / src.rel.removeprefix("wallpaper:")
    else:
        folder = (root or datasets_root()) / src.rel
    if not folder.is_dir():
        return []
    items = []
    for path in _images_under(folder):
        key = path.relative_to(folder).with_suffix("").as_posix()
        items.append(Item(name, _clean_scene(key), (path,), key))
    return items


_POLYU_CROP = re.compile(r"^(?P<prefix>.+)_(?P<crop>\d+)_(?P<kind>real|mean)$", re.IGNORECASE)


def _polyu_word(prefix: str) -> str:
    # "Canon5D2_5_160_3200_chair" -> "chair"; "NikonD800_6-3_125_5000_plant_" -> "plant"
    return prefix.rstrip("_").rsplit("_", 1)[-1].lower()


def list_polyu(*, root: Path | None = None) -> list[Item]:
    """PolyU real noisy/clean pairs: 512-px crops plus the full-resolution scenes."""
    base = (root or datasets_root()) / SOURCES["polyu"].rel
    items: list[Item] = []
    crops = base / "cropped_512"
    if crops.is_dir():
        for noisy in sorted(crops.glob("*_real.JPG")) + sorted(crops.glob("*_Real.JPG")):
            m = _POLYU_CROP.match(noisy.stem)
            clean = noisy.with_name(noisy.name[: -len("_real.JPG")] + "_mean.JPG")
            if m and clean.is_file():
                items.append(Item("polyu", _polyu_word(m["prefix"]), (noisy, clean), f"crop/{noisy.stem}"))
    words = sorted({it.scene for it in items})
    full = base / "fullres"
    if full.is_dir():
        for noisy in sorted(full.glob("*_Real.JPG")):
            clean = noisy.with_name(noisy.name[: -len("_Real.JPG")] + "_mean.JPG")
            if not clean.is_file():
                continue
            short = _polyu_word(noisy.stem[: -len("_Real")])
            scene = next((w for w in words if w.startswith(short)), short)
            items.append(Item("polyu", scene, (noisy, clean), f"full/{noisy.stem}"))
    return items


def list_sice(*, root: Path | None = None) -> list[Item]:
    """SICE exposure sequences, one item per ``sequences.csv`` row (frames dark to bright)."""
    base = (root or datasets_root()) / SOURCES["sice"].rel
    table = base / "sequences.csv"
    if not table.is_file():
        return []
    items = []
    with table.open(newline="") as fh:
        for row in csv.DictReader(fh):
            seq = int(row["sequence_id"])
            files = tuple(base / "images" / f for f in row["files_dark_to_bright"].split())
            lumas = tuple(float(v) for v in row["mean_luma_each"].split())
            # Every 4th id was held out by the dataset; the 3 ids in between form one block (= scene).
            items.append(Item("sice", f"block{seq // 4:03d}", files, f"seq{seq:03d}", lumas))
    return items


def list_gopro(*, root: Path | None = None) -> list[Path]:
    """The GoPro frames in temporal order (index i -> ``paths[i]``, frame number i + 1)."""
    folder = (root or datasets_root()) / SOURCES["gopro"].rel
    return sorted(folder.glob("*.jpg")) if folder.is_dir() else []


def list_items(name: str, *, root: Path | None = None) -> list[Item]:
    """Items of any source except GoPro (which is addressed by frame index, see :func:`list_gopro`)."""
    kind = SOURCES[name].kind
    if kind == "clean":
        return list_clean(name, root=root)
    if name == "polyu":
        return list_polyu(root=root)
    if name == "sice":
        return list_sice(root=root)
    raise KeyError(f"source {name!r} has no item list (kind {kind})")


def licence_summary(names: list[str]) -> list[dict[str, object]]:
    """Licence rows for a model card: name, licence and the non-commercial flag of each source used."""
    return [{"source": n, "licence": SOURCES[n].licence, "non_commercial": SOURCES[n].nc} for n in names]
