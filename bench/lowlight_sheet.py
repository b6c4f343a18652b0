"""Contact sheets of the low-light op on real photos, for looking: input | before issue 20 | now.

    python bench/lowlight_sheet.py [--out DIR] [--height 320]

Rows: normal photos (clean validation photos, wallpapers, the Canon 30D CR2 developed), the darkest SICE
validation frames and the low-light demo photos (``demo/lowlight_sci_mit``). Columns: the input, the op
before issue 20 (KinD's ``R x L'`` at the old automatic ratio), the op now at its automatic ratio, and
(normal photos) the op now at x2 set by hand. Whole frames downscaled to ``--height`` px; each tile is
labelled with its ratio, PSNR against the input (normal photos) and chroma ratio against the input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lowlight_colour import form, old_auto_ratio, states  # noqa: E402
from quality_data import read_srgb  # noqa: E402
from sheet_image import label, write_rows  # noqa: E402

from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.ops import lowlight_stages as st  # noqa: E402


def _fit(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = height / h
    return cv2.resize(img, (max(1, round(w * s)), height), interpolation=cv2.INTER_AREA) if s < 1 else img


def photos(height: int) -> dict[str, list[tuple[str, np.ndarray]]]:
    from app.core.io.loader import load_image
    from app.train.sources import datasets_root, wallpaper_root
    from app.train.splits import load_splits

    root, sp = datasets_root(), load_splits()
    normal = [(f"{s}/{it.key}", it.paths[0]) for s in ("sunhays80", "live1", "urban100", "cycleisp_samples")
              for it in sorted(sp.items(s, "val"), key=lambda it: it.key)[:2]]
    normal += [(f"wallpapers/{p.parent.name}/{p.stem}", p) for p in sorted(wallpaper_root().glob("*/*.jpg"))[::9]]
    out = {"normal": [(n, _fit(read_srgb(p), height)) for n, p in normal]}
    cr2 = root / "raw/bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    if cr2.is_file():
        out["normal"].append(("30D CR2 (developed)", _fit(load_image(cr2, raw_as="srgb").data[..., :3], height)))
    sice = sorted((it for it in sp.items("sice", "val") if it.lumas[0] < 50), key=lambda it: it.lumas[0])
    out["dark"] = [(f"sice/{it.key} (luma {it.lumas[0]:.0f})", _fit(read_srgb(it.paths[0]), height))
                   for it in sice[:6]]
    demo = sorted((root / "demo/lowlight_sci_mit").glob("*/*.*"))
    out["dark"] += [(f"demo/{p.parent.name}/{p.name}", _fit(read_srgb(p), height))
                    for p in demo if p.suffix.lower() in (".png", ".jpg")]
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/photorestore/bench/lowlight_sheet")
    ap.add_argument("--height", type=int, default=320)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for kind, items in photos(args.height).items():
        rows = []
        for s in states(items, print):
            x = s["rgb"]
            old_r, new_r = old_auto_ratio(s["L_gmean"]), st.auto_ratio(s["L_gmean"])
            tiles = [label(x, s["name"])]
            cols = [("before", form(s, old_r, "kind", 1.0), old_r), ("now auto", form(s, new_r, "shipped"), new_r)]
            if kind == "normal":
                cols.append(("now x2", form(s, 2.0, "shipped"), 2.0))
            for name, y, r in cols:
                c = colour_stats(y, x)["chroma_ratio"]
                extra = f" {psnr(y, x):.1f} dB" if kind == "normal" else ""
                tiles.append(label(y, f"{name} x{r:.2f}{extra} chroma {c:.2f}"))
            rows.append(np.concatenate(tiles, 1))
        write_rows(rows, args.out / f"lowlight_{kind}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
