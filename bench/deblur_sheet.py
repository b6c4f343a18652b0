"""Contact sheet of the real blurry photos in ``../shared/datasets/demo/``: input | unsharp mask | deblur op.

Usage: python bench/deblur_sheet.py [--out bench/out/deblur_real.png] [--side 320] [--model fast] [--refine]
       [--classic]

``--classic`` adds the model-free ``shake`` and ``defocus`` ops (app/core/deconv/) at their defaults, in the
order input | shake | defocus | deblur | unsharp, and prints what each found (kernel radius, defocus radius,
or why it left the photo alone).

Per photo: the centre crop and the crop with the most edge energy (where ringing and halos show). These
photos have no sharp references, so there is no PSNR: this is issue 6's "no ringing, halos or amplified
noise" check by eye. The printed high-frequency ratio (mean absolute Laplacian, output over input) on the
flattest crop tells whether noise was amplified there (1.0 = unchanged). Needs trained ``deblurgan_*``
weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sheet_image import label, write_rows  # noqa: E402

DEMO = ROOT.parent / "shared/datasets/demo"
PHOTOS = ("deblurganv2_test_img/000027.png", "nafnet_demo/blurry.jpg", "srn_testing_set/01.png",
          "srn_testing_set/07.png", "srn_testing_set/08.png", "srn_testing_set/4c6.png")


def _grid_scores(luma: np.ndarray, side: int, fn) -> tuple[np.ndarray, int]:
    h, w = luma.shape
    rows, cols = max(h // side, 1), max(w // side, 1)
    scores = np.array([[fn(luma[r * side:(r + 1) * side, c * side:(c + 1) * side]) for c in range(cols)]
                       for r in range(rows)])
    return scores, cols


def _crops(img: np.ndarray, side: int) -> dict[str, tuple[int, int]]:
    """Top-left corners: centre, most edges, flattest (for the noise check)."""
    h, w = img.shape[:2]
    luma = img.mean(axis=2)
    edges = lambda t: float(np.abs(cv2.Laplacian(t, cv2.CV_32F)).mean())  # noqa: E731
    scores, cols = _grid_scores(luma, side, edges)
    hi, lo = int(np.argmax(scores)), int(np.argmin(scores))
    return {"centre": ((h - side) // 2, (w - side) // 2), "edges": (hi // cols * side, hi % cols * side),
            "flat": (lo // cols * side, lo % cols * side)}


def _hf(img: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(img.mean(axis=2).astype(np.float32), cv2.CV_32F)).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/deblur_real.png")
    ap.add_argument("--side", type=int, default=320)
    ap.add_argument("--model", default="fast")
    ap.add_argument("--refine", action="store_true", help="add a column with the PTG refiner on")
    ap.add_argument("--classic", action="store_true", help="add shake and defocus columns")
    a = ap.parse_args()
    from app.core.context import RunContext
    from app.core.io import load_image
    from app.core.metrics.baselines import unsharp
    from app.core.ops.deblur import DeblurParams
    from app.core.ops.registry import get_op

    op = get_op("deblur")
    params = DeblurParams(model=a.model)
    refined = DeblurParams(model=a.model, refine=True) if a.refine else None
    for p in [params] + ([refined] if refined else []):
        ok, why = op.availability(p)
        if not ok:
            raise SystemExit(f"deblur unavailable: {why}")
    rows = []
    for rel in PHOTOS:
        path = DEMO / rel
        image = load_image(path)
        x = image.data[..., :3]
        t0 = time.perf_counter()
        y = op.run(image, params, RunContext(device="cpu")).data[..., :3]
        secs = time.perf_counter() - t0
        r = op.run(image, refined, RunContext(device="cpu")).data[..., :3] if refined else None
        u = unsharp(x)
        classic = {}
        if a.classic:
            for cid in ("shake", "defocus"):
                c_op = get_op(cid)
                t1 = time.perf_counter()
                res = c_op.run(image, c_op.Params(), RunContext(device="cpu"))
                info = {k: v for k, v in res.meta.extra.get(cid, {}).items() if k != "kernel"}
                print(f"{rel}: {cid} {time.perf_counter() - t1:.1f} s {info}")
                classic[cid] = (res.data[..., :3], info)
        side = min(a.side, *x.shape[:2])
        crops = _crops(x, side)
        fy, fx = crops["flat"]
        flat = (slice(fy, fy + side), slice(fx, fx + side))
        print(f"{rel}: {image.width}x{image.height}, {secs:.1f} s; high-frequency ratio on the flattest crop: "
              f"op {_hf(y[flat]) / _hf(x[flat]):.2f}, "
              + (f"op + refine {_hf(r[flat]) / _hf(x[flat]):.2f}, " if r is not None else "")
              + f"unsharp {_hf(u[flat]) / _hf(x[flat]):.2f}; "
              f"mean colour shift {np.abs(y.mean(axis=(0, 1)) - x.mean(axis=(0, 1))).max():.4f}")
        for name in ("centre", "edges"):
            cy, cx = crops[name]
            crop = (slice(cy, cy + side), slice(cx, cx + side))
            cells = [label(x[crop], f"{rel[:30]} input ({name})")]
            for cid, (out, info) in classic.items():
                found = (f"r {info.get('spread', info.get('radius'))} px" if info.get("applied")
                         else "unchanged")
                cells.append(label(out[crop], f"{cid}: {found}"))
            if classic:
                cells += [label(y[crop], f"deblur {a.model}"), label(u[crop], "unsharp mask")]
            else:
                cells += [label(u[crop], "unsharp mask"), label(y[crop], f"deblur {a.model}")]
            if r is not None:
                cells.append(label(r[crop], f"deblur {a.model} + refine"))
            rows.append(np.concatenate(cells, 1))
    write_rows(rows, a.out)


if __name__ == "__main__":
    main()
