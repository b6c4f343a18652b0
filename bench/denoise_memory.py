"""Peak RSS and time of the ``denoise`` op on a 24-megapixel RAW mosaic on the CPU (issue 4: <= 6 GB).

Usage: python bench/denoise_memory.py [--mp 24] [--threads 1] [--tile N] [--mode raw|srgb] [--model fast|full]

No 24-MP RAW file is in the datasets, so the real Canon EOS 30D mosaic (8.3 MP, with its RawInfo and
EXIF: calibrated noise at ISO 640) is tiled to the requested size. The network is the registered
``--model`` architecture (``fast`` or ``full``): with its shipped weights when ``models/`` has them
verified, else the same architecture with random weights exported to a temporary models directory
(memory and time do not depend on the weight values; the printout says which). The op runs in a fresh
child process, so ``ru_maxrss`` is that run's peak alone: decode + op + model, everything the op needs
resident at once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RAW = ROOT.parent / "shared/datasets/raw/bayer/debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _model(mode: str, config: str, tmp: Path) -> tuple[str, str]:
    """(model id the op will use, "shipped" | "random weights"), registering a stand-in when needed."""
    import dataclasses

    import torch

    from app.core.models.catalog import MODELS
    from app.core.models.export import export_model
    from app.core.models.registry import model_state, register
    from app.core.ops import denoise as dn

    real_id = dn.MODEL_IDS[(mode, config)]
    if model_state(real_id).ok:
        return real_id, "shipped"
    desc, builder = next((d, b) for d, b in MODELS if d.id == real_id)
    stand_in = dataclasses.replace(desc, id=f"bench_{real_id}")
    os.environ["PHOTORESTORE_MODELS_DIR"] = str(tmp)
    register(stand_in, builder)
    torch.manual_seed(0)
    export_model(stand_in.id, builder(**stand_in.config), arch=stand_in.arch, config=stand_in.config,
                 descriptor=stand_in, models_dir=tmp, card={"licence": "none", "training_data": "none (bench)"})
    dn.MODEL_IDS[(mode, config)] = stand_in.id
    return stand_in.id, "random weights"


def child(mp: float, mode: str, tile: int | None, config: str = "fast") -> dict:
    import numpy as np

    from app.core.context import RunContext
    from app.core.image import ColorSpace, Image
    from app.core.io import load_image
    from app.core.ops.denoise import DenoiseParams
    from app.core.ops.registry import get_op

    src = load_image(RAW, raw_as="bayer")
    w = int((mp * 1e6 * 3 / 2) ** 0.5) // 2 * 2
    h = int(mp * 1e6 / w) // 2 * 2
    reps = (-(-h // src.height), -(-w // src.width), 1)
    mosaic = np.tile(src.data, reps)[:h, :w]  # whole 2x2 cells: src sides are even, so phases are kept
    if mode == "raw":
        image = Image(np.ascontiguousarray(mosaic), ColorSpace.BAYER, src.meta, src.raw)
    else:
        import cv2

        # A plain OpenCV demosaic on 16 bits: the input's own construction must not set the peak.
        m16 = (np.clip(mosaic[..., 0], 0, 1) * 65535).astype(np.uint16)
        rgb = cv2.cvtColor(m16, cv2.COLOR_BayerBG2RGB)
        del m16
        data = np.empty(rgb.shape, np.float32)
        for r0 in range(0, h, 512):
            data[r0 : r0 + 512] = (rgb[r0 : r0 + 512] / 65535.0) ** (1 / 2.2)
        del rgb
        image = Image(data, ColorSpace.SRGB, src.meta)
    del src, mosaic
    with tempfile.TemporaryDirectory() as tmp:
        model_id, weights = _model(mode, config, Path(tmp))
        before = _rss_gb()
        tiles: list[str] = []
        ctx = RunContext(lambda f, t: tiles.append(t) if t.startswith("tile") else None, device="cpu", tile=tile)
        t0 = time.perf_counter()
        out = get_op("denoise").run(image, DenoiseParams(mode=mode, model=config), ctx)
        seconds = time.perf_counter() - t0
    return {"mode": mode, "config": config, "size": f"{w}x{h}", "megapixels": round(w * h / 1e6, 2), "model": model_id,
            "weights": weights, "tiles": len(tiles), "seconds": round(seconds, 1),
            "s_per_mp": round(seconds / (w * h / 1e6), 2), "rss_before_op_gb": round(before, 2),
            "peak_rss_gb": round(_rss_gb(), 2), "input_gb": round(image.data.nbytes / 1024**3, 2),
            "noise": out.meta.extra["denoise"].get("noise_source", "-")}


def run_child(mp: float, mode: str, config: str, threads: int, tile: int | None = None) -> dict:
    """:func:`child` in a fresh process (so its peak RSS is its own); raises RuntimeError with its stderr."""
    cmd = [sys.executable, __file__, "--child", "--mp", str(mp), "--mode", mode, "--model", config,
           "--threads", str(threads)]
    if tile:
        cmd += ["--tile", str(tile)]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if res.returncode != 0:
        raise RuntimeError(res.stderr.strip()[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mp", type=float, default=24.0)
    ap.add_argument("--mode", choices=("raw", "srgb"), default="raw")
    ap.add_argument("--model", choices=("fast", "full"), default="fast")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tile", type=int, default=None, help="tile edge (default: from free memory)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        import torch

        torch.set_num_threads(a.threads)
        print(json.dumps(child(a.mp, a.mode, a.tile, a.model)))
        return
    try:
        r = run_child(a.mp, a.mode, a.model, a.threads, a.tile)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    print(f"denoise ({r['mode']}, {r['config']}, {r['weights']}) on a {r['size']} ({r['megapixels']} MP) "
          f"{'mosaic' if r['mode'] == 'raw' else 'sRGB image'}, CPU, "
          f"{a.threads} thread(s): {r['tiles']} tiles, {r['seconds']} s ({r['s_per_mp']} s/MP)")
    print(f"  peak RSS {r['peak_rss_gb']} GB (before the op {r['rss_before_op_gb']} GB; input image "
          f"{r['input_gb']} GB); target <= 6 GB: {'OK' if r['peak_rss_gb'] <= 6.0 else 'OVER'}")
    print(f"  noise level from: {r['noise']}")


if __name__ == "__main__":
    main()
