"""Contact sheet of JPEG artefact removal on photos nobody trained on, for looking (not scoring).

    python bench/dejpeg_sheet.py [--qualities 20,30,40] [--checkpoint RUN/latest.pth] [--out DIR]

Rows: the demo photos (``../shared/datasets/demo``: video frames, never in a training split) saved as JPEG
at each quality with libjpeg 4:2:0, then real JPEG files without a reference (a web photo at q25, a camera
JPEG at q97 and a GoPro frame at q95: the no-harm cases). Columns, on a 192-px crop shown at 2x: JPEG input
| ``spp`` (told the quality) | ``dejpeg`` as it runs on a JPEG file (the net, then the projection onto the
file's quantisation tables) | the original (real JPEGs: the change x8). PSNR against the original (real
JPEGs: of the output against the input) is printed on each tile.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dejpeg import _net  # noqa: E402
from sheet_image import label, write_rows  # noqa: E402

from app.core.io.jpeg_tables import JpegTables, jpeg_tables_from_file  # noqa: E402
from app.core.metrics.baselines import spp_deblock  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.core.ops.dejpeg_qcs import consistent, project  # noqa: E402
from app.train.sources import datasets_root  # noqa: E402
from app.train.tasks.dejpeg import jpeg_roundtrip  # noqa: E402

DEMO = ("demo/srn_testing_set/07.png", "demo/deblurganv2_test_img/000027.png", "demo/srn_testing_set/4c6.png")
#: Real JPEGs without references: a web photo at q25, a camera JPEG at q97, a GoPro frame at q95.
REAL = ("demo/nafnet_demo/blurry.jpg", "noise/polyu/fullres/Canon5D2_bicyc_Real.JPG",
        "blur/gopro_GOPR0477_frames/000100.jpg")
CROP = 192


def _read(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255


def _crop(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    y, x = (h - CROP) // 2 // 8 * 8, (w - CROP) // 2 // 8 * 8
    return img[y:y + CROP, x:x + CROP]


def _tile(img: np.ndarray, text: str) -> np.ndarray:
    return label(cv2.resize(_crop(img), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST), text)


def _op(run, img: np.ndarray, q: float, tables: JpegTables | None) -> np.ndarray:
    """The net, then the projection where the op would project (the file's own pixels, on its grid)."""
    out = run(img, q)
    return project(out, img, tables) if tables is not None and consistent(img, tables) else out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qualities", default="20,30,40")
    ap.add_argument("--checkpoint")
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/photorestore/bench/dejpeg_sheet.png")
    args = ap.parse_args(argv)
    run = _net(args.checkpoint)
    if run is None:
        return 1
    root, rows = datasets_root(), []
    for k, name in enumerate(DEMO):
        clean = _read(root / name)
        clean = clean[: clean.shape[0] // 16 * 16, : clean.shape[1] // 16 * 16]
        q = [int(v) for v in args.qualities.split(",")][k % len(args.qualities.split(","))]
        lq = jpeg_roundtrip(np.round(clean * 255).astype(np.uint8), q).astype(np.float32) / 255
        spp, ours = spp_deblock(lq, q), _op(run, lq, float(q), JpegTables.ijg(q))
        rows.append(np.concatenate([_tile(lq, f"JPEG q{q} {psnr(lq, clean):.2f} dB"),
                                    _tile(spp, f"spp {psnr(spp, clean):.2f} dB"),
                                    _tile(ours, f"dejpeg {psnr(ours, clean):.2f} dB"),
                                    _tile(clean, f"original {Path(name).name}")], axis=1))
        print(f"{name} q{q}: input {psnr(lq, clean):.2f}  spp {psnr(spp, clean):.2f}  "
              f"dejpeg {psnr(ours, clean):.2f} dB")
    for name in REAL:
        path = root / name
        if not path.exists():
            continue
        tables = jpeg_tables_from_file(path)
        q = tables.quality if tables is not None else 95
        img = _read(path)
        h, w = img.shape[:2]
        y, x = max(0, (h - 512) // 2) // 16 * 16, max(0, (w - 512) // 2) // 16 * 16
        img = img[y:y + 512, x:x + 512]  # on the file's 16-px grid, so the crop keeps its JPEG blocks
        ours = _op(run, img, float(q), tables)
        diff = np.clip(0.5 + 8 * (ours - img), 0, 1)
        rows.append(np.concatenate([_tile(img, f"real JPEG q{q:.0f} {Path(name).name}"),
                                    _tile(spp_deblock(img, q), "spp"),
                                    _tile(ours, f"dejpeg ({psnr(ours, img):.1f} dB vs input)"),
                                    _tile(diff, "dejpeg - input, x8")], axis=1))
        print(f"{name} (q{q:.0f}): dejpeg vs input {psnr(ours, img):.2f} dB")
    write_rows(rows, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
