"""Contact sheets of real photos nobody trained on and that have no reference, for looking at.

One PNG per kind under ``OUT/sheets/``: per photo a row *input | op | Auto* of the whole frame (scaled
to ``FRAME`` px, the ops run on that scaled copy, as a preview) and a row of 1:1 centre crops (the ops
run on the full-resolution crop). Auto's recipe is planned once on the whole photo as the app plans it
(``auto_plan``; a RAW file is developed first) and then applied to frame and crop. Labels carry NIQE
(our model, lower = more natural) of the frame and the CIELAB chroma ratio output/input.

Kinds: the real RAW files (``raw/bayer``, developed as the app develops them; op = denoise on the mosaic,
the app's route for a RAW file: the whole sensor denoised, then developed, then framed and cropped), ``demo/``
(op by folder), PolyU (``fullres`` when present, else the ISO 12800 crops; op = denoise), single GoPro
validation frames (op = deblur) and SICE validation dark frames (op = lowlight).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from quality_data import centre_crop, read_srgb
from quality_ours import run_op
from sheet_image import label, write_rows

from app.core.metrics.colour import colour_stats
from app.core.metrics.niqe import niqe

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FRAME = 384
CROP = 256
DEMO_OPS = {"deblurganv2_test_img": "deblur", "srn_testing_set": "deblur", "lowlight_sci_mit": "lowlight"}


def _data() -> Path:
    return DATA if DATA.is_dir() else Path("/work/shared/datasets")


def _photos(per_kind: int) -> dict[str, list[tuple[str, Path, str]]]:
    """``{kind: [(name, path, op), ...]}``."""
    d = _data()
    raw = sorted(p for p in (d / "raw" / "bayer").glob("*") if p.suffix.lower() in (".cr2", ".dng", ".kdc"))
    demo = []
    for sub in sorted((d / "demo").glob("*")):
        files = sorted(p for p in sub.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        if sub.name == "nafnet_demo":
            demo += [(f, "deblur" if "blur" in f.name else "denoise") for f in files]
        else:
            demo += [(f, DEMO_OPS.get(sub.name, "denoise")) for f in files[:2]]
    polyu = sorted((d / "noise" / "polyu" / "fullres").glob("*_Real.JPG")) or sorted(
        (d / "noise" / "polyu" / "cropped_512").glob("*12800*_real.JPG"))
    from app.train.splits import load_splits

    sp = load_splits()
    gopro = sp.gopro_frames("val")[::10]
    sice = [it.paths[0] for it in sorted(sp.items("sice", "val"), key=lambda i: i.key) if it.lumas and it.lumas[0] < 50]
    kinds = {"raw": [(p.name, p, "denoise") for p in raw],
             "demo": [(f"{p.parent.name}/{p.name}", p, op) for p, op in demo],
             "polyu": [(p.name, p, "denoise") for p in polyu],
             "gopro": [(p.name, p, "deblur") for p in gopro],
             "sice": [(p.parent.name + "/" + p.name, p, "lowlight") for p in sice[::3]]}
    return {k: v[:per_kind] for k, v in kinds.items()}


def _load(path: Path):
    """``(sRGB float array as the user sees it, Image for auto_plan)``."""
    from app.core.io import load_image

    if path.suffix.lower() in (".cr2", ".dng", ".kdc"):
        img = load_image(path, raw_as="srgb")
        return np.clip(img.data[..., :3], 0, 1).astype(np.float32), img
    x = read_srgb(path)
    return x, x


def _raw_route(path: Path) -> np.ndarray:
    """The developed result of the denoise op (defaults, mode auto) on a RAW file's whole mosaic, as
    ``photorestore run FILE --op denoise`` makes it."""
    from app.core.context import RunContext
    from app.core.io import develop, load_image
    from app.core.ops.registry import get_op

    img = load_image(path, raw_as="bayer")
    op = get_op("denoise")
    out = op.run(img, op.Params(), RunContext(device="cpu"))
    out = develop(out) if out.space.value == "bayer" else out
    return np.clip(out.data[..., :3], 0, 1).astype(np.float32)


def _frame(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[:2]
    s = FRAME / max(h, w)
    return cv2.resize(x, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else x


def _apply(recipe, x: np.ndarray) -> np.ndarray:
    for op_id, params in recipe:
        x = run_op(op_id, params, x)
    return x


def _niqe(x: np.ndarray) -> float:
    try:
        return float(niqe(x))
    except ValueError:
        return float("nan")


def _tag(y: np.ndarray, x: np.ndarray, what: str) -> str:
    c = colour_stats(y, x)["chroma_ratio"] if what != "input" else 1.0
    return f"{what} NIQE {_niqe(y):.2f} C {c:.2f}"


def write_sheets(out: Path, per_kind: int = 4, log=print) -> str:
    """Write the sheets; returns a markdown list of what each holds (recipes, NIQE, chroma)."""
    from app.core.workflow.auto import plan_auto as auto_plan

    lines = []
    for kind, photos in _photos(per_kind).items():
        rows = []
        for name, path, op in photos:
            try:
                x, img = _load(path)
                recipe = auto_plan(img).recipe()
            except Exception as exc:  # noqa: BLE001 - a file the app cannot open is itself a finding
                lines.append(f"- {kind}/{name}: could not open ({exc})")
                continue
            h, w = x.shape[:2]
            frame, crop = _frame(x), centre_crop(x, CROP)
            try:
                raw_out = _raw_route(path) if kind == "raw" and op == "denoise" else None
            except Exception as exc:  # noqa: BLE001 - e.g. a RAW that opens developed: the sRGB route below
                lines.append(f"- {kind}/{name}: RAW route failed ({exc}); the op ran on the developed image")
                raw_out = None
            if raw_out is not None and raw_out.shape != x.shape:
                raw_out = None  # not a Bayer file (developed on open): the op's sRGB route, as below
            outs = {}
            for what, f in (("frame", frame), ("crop", crop)):
                y = run_op(op, {}, f) if raw_out is None else (_frame(raw_out) if what == "frame" else
                                                                centre_crop(raw_out, CROP))
                outs[what] = (f, y, _apply(recipe, f))
            auto_txt = " > ".join(o for o, _ in recipe) or "nothing"
            for what in ("frame", "crop"):
                a, b, c = outs[what]
                rows.append(np.concatenate([label(a, f"{name[:24]} {what} " + _tag(a, a, "input")),
                                            label(b, _tag(b, a, op)), label(c, _tag(c, a, f"auto[{auto_txt}]"))], 1))
            fa, fb, fc = outs["frame"]
            cb, cc = colour_stats(fb, fa)["chroma_ratio"], colour_stats(fc, fa)["chroma_ratio"]
            lines.append(f"- {kind}/{name} ({w}x{h}): op {op}, Auto: {auto_txt}; NIQE in/op/auto "
                         f"{_niqe(fa):.2f}/{_niqe(fb):.2f}/{_niqe(fc):.2f}; chroma op {cb:.2f}, auto {cc:.2f}")
            log(lines[-1])
        if rows:
            write_rows(rows, out / "sheets" / f"acceptance_{kind}.png")
            lines.append(f"  sheet: {out / 'sheets' / f'acceptance_{kind}.png'}")
    return "\n".join(lines)
