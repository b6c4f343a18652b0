"""Contact sheet of real noisy photos through the sRGB denoise route: shipped weights vs candidate weights.

    python bench/denoise_srgb_sheet.py --models-dir DIR [--out bench/out/denoise_srgb_sheet.png] [--side 256]

For looking, not scoring (issue 27: "contact sheets of real noisy photos, looked at"). Per photo (PolyU
full-resolution camera JPEGs, ISO 1600-12800, and the noisy demo image of ``demo/nafnet_demo``, a phone
shot), two 1:1 crops: the centre and the darkest textured crop on a coarse grid (where phone and high-ISO
noise shows). Columns: input | the op's sRGB route with the shipped weights | with the weights in
``--models-dir`` (both at default parameters: the network, then the noise-aware guard). Labels carry NIQE
(our model, lower = more natural) and the CIELAB chroma ratio output/input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from quality_data import read_srgb  # noqa: E402
from sheet_image import label, write_rows  # noqa: E402

from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.niqe import niqe  # noqa: E402

DATA = ROOT.parent / "shared/datasets"
if not DATA.is_dir():  # a worktree beside the checkout: the shared datasets are at the usual place
    DATA = Path("/work/shared/datasets")


def photos() -> list[Path]:
    full = sorted((DATA / "noise/polyu/fullres").glob("*_Real.JPG"))
    return full + sorted((DATA / "demo/nafnet_demo").glob("noisy*"))


def crops(img: np.ndarray, side: int) -> list[tuple[str, int, int]]:
    """Centre crop and the darkest crop (of a 6x6 grid) whose luma still varies (not a black hole)."""
    h, w = img.shape[:2]
    out = [("centre", (h - side) // 2, (w - side) // 2)]
    y = img @ np.array([0.299, 0.587, 0.114], np.float32)
    best = None
    for r in np.linspace(0, h - side, 6).astype(int):
        for c in np.linspace(0, w - side, 6).astype(int):
            win = y[r:r + side, c:c + side]
            if win.std() > 0.02 and (best is None or win.mean() < best[0]):
                best = (float(win.mean()), int(r), int(c))
    if best is not None and (best[1], best[2]) != out[0][1:]:
        out.append(("dark", best[1], best[2]))
    return out


def denoise(x: np.ndarray, model) -> np.ndarray:
    """The op's sRGB route at default parameters: network, then the noise-aware guard."""
    import torch

    from app.core.ops.denoise_guard import guard

    den = model.run_tensor(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None])
    return np.clip(guard(x, np.ascontiguousarray(den[0].permute(1, 2, 0).numpy())), 0, 1)


def _niqe(x: np.ndarray) -> float:
    try:
        return float(niqe(x))
    except ValueError:
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models-dir", type=Path, required=True, help="a models/ copy holding the candidate weights")
    ap.add_argument("--out", type=Path, default=ROOT / "bench/out/denoise_srgb_sheet.png")
    ap.add_argument("--side", type=int, default=256)
    args = ap.parse_args()
    from app.core.models.registry import load_model

    nets = {"shipped": load_model("cycleisp_srgb_denoise", "cpu"),
            "candidate": load_model("cycleisp_srgb_denoise", "cpu", directory=args.models_dir)}
    rows = []
    for path in photos():
        img = read_srgb(path)
        for where, r, c in crops(img, min(args.side, *img.shape[:2])):
            x = np.ascontiguousarray(img[r:r + args.side, c:c + args.side])
            tiles = [label(x, f"{path.stem[:22]} {where} NIQE {_niqe(x):.2f}")]
            for name, net in nets.items():
                y = denoise(x, net)
                tiles.append(label(y, f"{name} NIQE {_niqe(y):.2f} C {colour_stats(y, x)['chroma_ratio']:.2f}"))
                print(f"{path.name} {where}: {name} NIQE {_niqe(y):.2f} (input {_niqe(x):.2f})", flush=True)
            rows.append(np.concatenate(tiles, 1))
    write_rows(rows, args.out)


if __name__ == "__main__":
    main()
