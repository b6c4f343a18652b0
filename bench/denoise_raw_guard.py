"""The RAW route's noise-aware guard (``app/core/ops/denoise_raw_guard.py``): its cost and what it buys.

    python bench/denoise_raw_guard.py [--limit 8] [--side 512] [--val 12] [--no-train] [--sheet OUT.png]

1. **Training split** (the guard's constants are checked here, never on validation photos): synthetic RAW
   pairs of the clean sources' *train* photos (the acceptance bench's denoise-raw row uses the val split),
   at the noise levels the acceptance bench draws (``sidd``) and at a mild daylight level (the Canon 30D at
   ISO 640, as calibrated). PSNR / SSIM against the clean reference after the synthetic camera develops
   the mosaic: input, the network alone (``adaptive=False``), the guarded op (default), and each output's
   NIQE (lower = more natural) beside the reference's.
2. **Validation** (``--val N``, reported once, not tuned on): the acceptance bench's denoise-raw pairs
   (``bench/quality_data.py``, validation split) through the RAW route -- that bench's own row runs the op on
   the developed sRGB image, i.e. the sRGB route -- input, network alone and guarded, PSNR / SSIM after the
   pair's synthetic camera develops the mosaic.
3. **The real CR2** (``raw/bayer``, nobody's training photo for this rule): NIQE of 256-px crops of the
   developed frame (centre, as the acceptance sheet crops it; sky; forest) for the input, the network
   alone and the guarded op; ``--sheet`` writes the crops (rows: centre, sky, forest; columns: input,
   network, guarded) to look at.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
CR2 = ROOT.parent / "shared/datasets/raw/bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
MILD = (1.211e-4, 2.854e-7)  # Canon EOS 30D, ISO 640 (app/core/isp/noise_calibration.json)


def _train_photos(limit: int) -> list[tuple[str, Path]]:
    from app.train.sources import SOURCES
    from app.train.splits import load_splits

    sp = load_splits()
    out = []
    for name, src in SOURCES.items():
        if src.kind == "clean" and name in sp.data["sources"]:
            out += [(f"{name}/{it.key}", it.paths[0]) for it in sp.items(name, "train")[:limit]]
    rng = np.random.default_rng(0)
    return [out[i] for i in sorted(rng.choice(len(out), size=min(limit, len(out)), replace=False))]


def _run(mosaic: np.ndarray, shot: float, read: float, adaptive: bool) -> np.ndarray:
    """The denoise op (RAW route, defaults but ``adaptive``) on a normalised (h, w, 4) packed mosaic."""
    from app.core.color import unpack_rggb
    from app.core.context import RunContext
    from app.core.image import ColorSpace, Image, RawInfo
    from app.core.ops.base import make_params
    from app.core.ops.registry import get_op

    info = RawInfo(path="", cfa_pattern="RGGB", crop_offset=(0, 0), black_level=(0.0,) * 4, white_level=1.0,
                   camera_wb=(1.0, 1.0, 1.0, 1.0), noise_profile=((shot, read),) * 4)
    op = get_op("denoise")
    out = op.run(Image(unpack_rggb(mosaic), ColorSpace.BAYER, raw=info),
                 make_params(op.Params, {"mode": "raw", "adaptive": adaptive}), RunContext(device="cpu"))
    d = out.data[..., 0]
    return np.stack([d[0::2, 0::2], d[0::2, 1::2], d[1::2, 0::2], d[1::2, 1::2]], axis=2)


def training_split(limit: int, side: int) -> None:
    from quality_data import centre_crop, read_srgb

    from app.core.isp.noise import NoiseParams
    from app.core.isp.synthetic_camera import process_np
    from app.core.metrics.niqe import niqe
    from app.core.metrics.psnr import psnr
    from app.core.metrics.ssim import ssim
    from app.train.raw_pairs import make_raw_pair

    photos = _train_photos(limit)
    for level in ("sidd", "mild"):
        rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in ("input", "network", "guarded", "ref")}
        for k, (name, path) in enumerate(photos):
            clean = centre_crop(read_srgb(path), side)
            noise = None if level == "sidd" else NoiseParams(*MILD)
            pair = make_raw_pair(clean, np.random.default_rng(k), noise_model="sidd", noise=noise)
            ref = process_np(pair.clean, pair.isp)
            outs = {"input": pair.noisy,
                    "network": _run(pair.noisy, pair.noise.shot, pair.noise.read, False),
                    "guarded": _run(pair.noisy, pair.noise.shot, pair.noise.read, True)}
            for key, raw in outs.items():
                y = np.clip(process_np(raw, pair.isp), 0, 1)
                rows[key].append((psnr(y, ref), float(ssim(y, ref)), float(niqe(y))))
            rows["ref"].append((float("nan"), float("nan"), float(niqe(np.clip(ref, 0, 1)))))
            print(f"  {level} {name}: shot {pair.noise.shot:.3g}; " + ", ".join(
                f"{key} {v[-1][0]:.2f} dB" for key, v in rows.items() if key != "ref"), flush=True)
        print(f"training split, {len(photos)} photos, noise {level}: " + "; ".join(
            f"{key} PSNR {np.mean([r[0] for r in v]):.2f} SSIM {np.mean([r[1] for r in v]):.4f} "
            f"NIQE {np.mean([r[2] for r in v]):.2f}" if key != "ref" else f"reference NIQE "
            f"{np.mean([r[2] for r in v]):.2f}" for key, v in rows.items()))


def validation(limit: int) -> None:
    from quality_data import validation_pairs
    from quality_ours import run_op

    from app.core.metrics.psnr import psnr
    from app.core.metrics.ssim import ssim

    rows: dict[str, list[tuple[float, float]]] = {"input": [], "network": [], "guarded": []}
    for p in validation_pairs("denoise-raw", limit):
        outs = {"input": p.degraded,
                "network": run_op("denoise", {"mode": "raw", "adaptive": False}, p.degraded, pair=p),
                "guarded": run_op("denoise", {"mode": "raw"}, p.degraded, pair=p)}
        for key, y in outs.items():
            rows[key].append((psnr(y, p.reference), float(ssim(y, p.reference))))
        print(f"  val {p.name}: " + ", ".join(f"{k} {v[-1][0]:.2f} dB" for k, v in rows.items()), flush=True)
    print(f"validation, {len(rows['input'])} denoise-raw pairs, RAW route: " + "; ".join(
        f"{k} {np.mean([r[0] for r in v]):.2f} dB / {np.mean([r[1] for r in v]):.4f}" for k, v in rows.items()))


def real_cr2(sheet: Path | None) -> None:
    import cv2

    from app.core.context import RunContext
    from app.core.io import load_image
    from app.core.io.develop import develop
    from app.core.metrics.niqe import niqe
    from app.core.ops.base import make_params
    from app.core.ops.registry import get_op

    img = load_image(CR2, raw_as="bayer")
    op = get_op("denoise")
    frames = [develop(img).data[..., :3]]
    for adaptive in (False, True):
        den = op.run(img, make_params(op.Params, {"mode": "raw", "adaptive": adaptive}), RunContext(device="cpu"))
        frames.append(develop(den).data[..., :3])
    h, w = frames[0].shape[:2]
    spots = {"centre": (h // 2 - 128, w // 2 - 128), "sky": (200, w // 2 - 128), "forest": (int(h * 0.8), w // 2)}
    rows = []
    for name, (y0, x0) in spots.items():
        crops = [np.clip(f[y0:y0 + 256, x0:x0 + 256], 0, 1) for f in frames]
        print(f"CR2 {name} crop NIQE: input {niqe(crops[0]):.2f}, network {niqe(crops[1]):.2f}, "
              f"guarded {niqe(crops[2]):.2f}")
        rows.append(np.concatenate(crops, 1))
    if sheet:
        cv2.imwrite(str(sheet), (np.concatenate(rows, 0)[..., ::-1] * 255 + 0.5).astype(np.uint8))
        print(f"sheet: {sheet} (rows centre / sky / forest; columns input / network / guarded)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--sheet", type=Path, default=None)
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--val", type=int, default=0, help="also N validation pairs through the RAW route")
    a = ap.parse_args(argv)
    if not a.no_train:
        training_split(a.limit, a.side)
    if a.val:
        validation(a.val)
    real_cr2(a.sheet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
