"""Interactive ratio slider of the ``lowlight`` op: one ratio change on a ~2-MP preview.

    python bench/slider_latency.py [--mp 2.0] [--values 50] [--threads 1] [--test-weights]

Runs the op through the real :class:`~app.core.pipeline.engine.Pipeline` once (all four stages), then
sweeps ``--values`` ratios over the slider's range with decompose and restore cached, timing each run and
printing min / median / max plus the pipeline's hit/miss counters (which must show that only adjust and
fuse ran). Input: a real low-light demo photo (SCI, MIT licence) resized to ``--mp`` megapixels.

``--test-weights`` exports seeded random weights of the same nets to a temporary directory first, to
measure before training has finished: the timing does not depend on the weight values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEMO = "demo/lowlight_sci_mit/difficult"


def photo(mp: float) -> np.ndarray:
    from app.train.sources import datasets_root

    files = sorted((datasets_root() / DEMO).iterdir())
    img = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    s = (mp * 1e6 / (img.shape[0] * img.shape[1])) ** 0.5
    return cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_CUBIC)


def _test_weights(directory: str) -> None:
    import torch

    from app.core.models import catalog
    from app.core.models.export import export_model
    from app.core.ops import lowlight_stages as st

    torch.manual_seed(0)
    for desc, builder in catalog.MODELS:
        if desc.id in st.MODEL_IDS:
            export_model(desc.id, builder(**desc.config), arch=desc.arch, config=desc.config, descriptor=desc,
                         models_dir=Path(directory),
                         card={"licence": "CC0-1.0", "training_data": "none (random weights: timing only)"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mp", type=float, default=2.0, help="preview size in megapixels")
    ap.add_argument("--values", type=int, default=50, help="ratio values swept")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the app's preview worker: 1-2)")
    ap.add_argument("--test-weights", action="store_true", help="random weights in a temp dir (timing only)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.test_weights:
        tmp = tempfile.mkdtemp(prefix="slider_latency_")
        os.environ["PHOTORESTORE_MODELS_DIR"] = tmp
        _test_weights(tmp)
    from app.core.image import Image
    from app.core.ops.lowlight import LowlightParams
    from app.core.ops.registry import get_op
    from app.core.pipeline.engine import Pipeline
    from app.core.pipeline.recipe import Step

    ok, why = get_op("lowlight").availability()
    if not ok:
        print(f"lowlight unavailable: {why} (train the KinD nets, or pass --test-weights)")
        return 2
    img = Image(photo(args.mp))
    pipe = Pipeline()
    t0 = time.perf_counter()
    pipe.run(img, [Step("lowlight", LowlightParams(ratio=1.0, auto_ratio=False))], source_key="bench")
    first = time.perf_counter() - t0
    pipe.cache.reset_counters()
    times = []
    for r in np.geomspace(0.5, 8.0, args.values):
        params = LowlightParams(ratio=round(float(r), 3), auto_ratio=False)
        t0 = time.perf_counter()
        pipe.run(img, [Step("lowlight", params)], source_key="bench")
        times.append((time.perf_counter() - t0) * 1000)
    print(f"lowlight slider on {img.width}x{img.height} ({img.megapixels:.2f} MP), {args.threads} thread(s)"
          f"{', random test weights' if args.test_weights else ''}")
    print(f"  first run, all four stages: {first:.2f} s")
    print(f"  ratio change ({args.values} values 0.5-8): min {min(times):.1f} ms, median "
          f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms (target: median <= 50 ms)")
    print(f"  stages that ran: {pipe.cache.ran()} ; misses {dict(pipe.cache.misses)} ; hits {dict(pipe.cache.hits)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
