"""What you see is what you export: a RAW's preview (a reduced mosaic through the same RAW ops and the
same development) matches the full-size export scaled down to the preview's size, on every real RAW.

The export is compared over the mosaic's area (LibRaw's development can be a row or column larger than
the RGGB-aligned mosaic). The full set (no op, RAW denoise, low light) is slow; one no-op case runs in
the default suite.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core import workflow
from app.core.image import ColorSpace
from app.core.io.develop_reduced import _unorient
from app.core.io.exif import orient
from app.core.io.formats import RAW_EXTENSIONS
from app.core.metrics.psnr import psnr
from app.core.pipeline import Step

#: the GUI's RAW preview size (app.gui.document.RAW_PREVIEW_SIDE; tests/core may not import the GUI).
SIDE = 1200
MIN_PSNR = 35.0


def _raws(datasets_dir):
    folder = datasets_dir / "raw" / "bayer"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in RAW_EXTENSIONS)


def _mosaic_area(exported, image):
    o = image.meta.orientation
    dy, dx = image.raw.crop_offset
    full = _unorient(exported.data, o)[dy:dy + image.height, dx:dx + image.width]
    return np.ascontiguousarray(orient(full, o))


def preview_vs_export(path, steps, side: int = SIDE) -> tuple[float, tuple[int, int]]:
    image = workflow.open_photo(path)
    assert image.space is ColorSpace.BAYER
    workflow.fit_development(image, workflow.developed(image))  # as the GUI does when it opens a RAW
    source = workflow.preview_source(image, side)
    preview = workflow.render(source, steps).data
    export = workflow.render_full(image, steps)
    if source is not image:  # reduced: it covers the mosaic's area (the Kodak is smaller than a preview)
        export = _mosaic_area(export, image)
    else:
        export = export.data
    scaled = cv2.resize(export, (preview.shape[1], preview.shape[0]), interpolation=cv2.INTER_AREA)
    return psnr(np.clip(preview, 0, 1), np.clip(scaled, 0, 1)), preview.shape[:2]


def test_reduced_mosaic_is_a_mosaic_with_the_noise_scaled(datasets_dir):
    path = next(p for p in _raws(datasets_dir) if "colorchart" in p.name)
    image = workflow.open_photo(path)
    source = workflow.preview_source(image, 600)
    assert source.space is ColorSpace.BAYER and source.data.shape[2] == 1
    assert source.height % 2 == 0 and source.width % 2 == 0 and max(source.height, source.width) == 900
    binning = source.raw.extra["binning"]
    assert binning == pytest.approx(image.height * image.width / (source.height * source.width), rel=1e-3)
    # Plane means survive the binning (it averages, it does not filter colour).
    full, small = image.data[..., 0], source.data[..., 0]
    for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
        assert small[i::2, j::2].mean() == pytest.approx(full[i::2, j::2].mean(), rel=0.01)
    out = workflow.render(source, [])
    assert max(out.height, out.width) == 600 and out.space is ColorSpace.SRGB


def test_preview_matches_export_no_op(datasets_dir):
    # 600 px: the 1734-px colour chart is then really reduced (at 1200 it is small enough to preview whole).
    path = next(p for p in _raws(datasets_dir) if "colorchart" in p.name)
    value, shape = preview_vs_export(path, [], side=600)
    assert shape[1] == 600
    assert value >= MIN_PSNR, f"{path.name}: preview vs export {value:.2f} dB at {shape}"


@pytest.mark.slow
@pytest.mark.timeout(3600)  # full-size RAW denoise and low light of every file: minutes on 2 shared cores
@pytest.mark.parametrize("op", ["none", "denoise", "lowlight"])
def test_preview_matches_export_every_raw(datasets_dir, op):
    steps = [] if op == "none" else [Step.make(op)]
    results = {p.name: preview_vs_export(p, steps) for p in _raws(datasets_dir)}
    print({k: f"{v:.2f} dB {s}" for k, (v, s) in results.items()})
    bad = {k: round(v, 2) for k, (v, _) in results.items() if v < MIN_PSNR}
    assert not bad, f"{op}: preview vs export below {MIN_PSNR} dB: {bad}"
