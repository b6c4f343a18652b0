"""Learned (CycleISP RGB2RAW / RAW2RGB) vs parametric camera pipeline, on data neither was fitted on.

    python bench/isp_roundtrip.py [--photos 12] [--side 256]

Rows (PSNR dB, mean over crops; the RAW is compared in linear [0, 1] packed RGGB):

* ``sRGB -> RAW``: the predicted mosaic against the true one.
* ``RAW -> sRGB``: the rendering of the true mosaic against the true sRGB (colour reference: the sRGB, as
  CycleISP's colour branch is fed).
* ``round trip``: sRGB -> RAW -> sRGB against the input.

Columns: ``learned`` (the exported ``cycleisp_learned_isp``), ``parametric, nominal camera`` (our
unprocess/process with the average synthetic camera: what synthesis can do without knowing the camera),
``parametric, true camera`` (only for the synthetic pairs, whose camera is known: the oracle).

Data: (a) validation photos of the split (Sun-Hays 80), centre crops, unprocessed by a seeded random
camera; (b) the validation columns of the real RAW files (mosaic vs LibRaw development; never trained
on); (c) the Kodak DC50, a camera the learned pipeline never saw (non-commercial file: evaluation only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.isp.synthetic_camera import process, sample_isp_params, unprocess  # noqa: E402
from app.core.metrics.psnr import psnr  # noqa: E402
from app.train.isp_pairs import NC_FILES, nominal_camera, raw_files, real_pair, split_columns  # noqa: E402


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32))[None]


def _n(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).clamp(0, 1).numpy()


def _scores(isp, srgb: np.ndarray, raw: np.ndarray, true_cam=None) -> dict[str, dict[str, float]]:
    s, r = _t(srgb), _t(raw)
    out: dict[str, dict[str, float]] = {}
    cams = {"parametric, nominal camera": nominal_camera()}
    if true_cam is not None:
        cams["parametric, true camera"] = true_cam
    with torch.inference_mode():
        if isp is not None:
            raw_hat = isp.rgb2raw(s).clamp(0, 1)
            out["learned"] = {"sRGB -> RAW": psnr(_n(raw_hat), raw), "RAW -> sRGB": psnr(_n(isp.raw2rgb(r, s)), srgb),
                              "round trip": psnr(_n(isp.raw2rgb(raw_hat, s)), srgb)}
        for name, cam in cams.items():
            out[name] = {"sRGB -> RAW": psnr(_n(unprocess(s, cam)), raw),
                         "RAW -> sRGB": psnr(_n(process(r, cam)), srgb),
                         "round trip": psnr(_n(process(unprocess(s, cam), cam)), srgb)}
    return out


def _synthetic(photos: int, side: int):
    from app.train.splits import load_splits
    from bench.quality_data import centre_crop, read_srgb

    rng = np.random.default_rng(7)
    for item in load_splits().items("sunhays80", "val")[:photos]:
        img = centre_crop(read_srgb(item.paths[0]), side)
        cam = sample_isp_params(rng)
        with torch.inference_mode():
            raw = _n(unprocess(_t(img), cam))
        yield img, raw, cam


def _real(path: Path, side: int, crops: int = 4):
    srgb, raw = real_pair(path)
    x0, x1 = split_columns(srgb.shape[1], "val")
    side = min(side, (x1 - x0) // 2 * 2, srgb.shape[0] // 2 * 2)
    for k in range(crops):
        y = (srgb.shape[0] - side) * k // max(crops - 1, 1) // 2 * 2
        x = x0 + (x1 - x0 - side) // 4 * 2
        yield srgb[y : y + side, x : x + side], raw[y // 2 : (y + side) // 2, x // 2 : (x + side) // 2], None


def _mean(rows: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for method in rows[0]:
        out[method] = {k: float(np.mean([r[method][k] for r in rows])) for k in rows[0][method]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=12)
    ap.add_argument("--side", type=int, default=256)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    torch.set_num_threads(1)
    try:
        from app.core.models.registry import load_model

        isp = load_model("cycleisp_learned_isp", "cpu").module.float().eval()
        note = "learned: cycleisp_learned_isp"
    except Exception as exc:  # noqa: BLE001 - report the parametric columns even when untrained
        isp, note = None, f"learned: unavailable ({exc})"
    groups = {f"validation photos, random camera ({args.photos})": list(_synthetic(args.photos, args.side))}
    for path in raw_files(include_nc=True):
        label = "unseen camera" if path.name in NC_FILES else "validation columns"
        groups[f"{path.name} ({label})"] = list(_real(path, args.side))
    print(f"# Learned vs parametric camera pipeline (PSNR dB; {note})\n")
    for title, data in groups.items():
        res = _mean([_scores(isp, s, r, cam) for s, r, cam in data])
        methods = list(res)
        print(f"## {title}\n\n| | {' | '.join(methods)} |\n|---|{'---|' * len(methods)}")
        for k in ("sRGB -> RAW", "RAW -> sRGB", "round trip"):
            print(f"| {k} | {' | '.join(f'{res[m][k]:.2f}' for m in methods)} |")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
