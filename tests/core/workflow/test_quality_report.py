"""The quality report's verdict is the whole photo's (Auto's and ``analyze``'s), never a scaled-down copy's.

On the sharp f/22 Canon 30D CR2 the GUI's panel said "blurred, edge width sigma 2.4 px" while ``analyze``
and Auto said nothing to do: it measured the 0.34-scale preview (edges ~0.8 px wide, the sharpness floor
of any downscaled photo) and multiplied by 2.9 (issue 20).
"""

from __future__ import annotations

import numpy as np

from app.core.context import RunContext
from app.core.image import ColorSpace, Image
from app.core.metrics.analysis import analyze_array
from app.core.pipeline import Step
from app.core.workflow import preview_source, starts_on_mosaic
from app.core.workflow.preview import downscale
from app.core.workflow.quality import quality_report


def _sharp_photo(side: int = 1024) -> np.ndarray:
    rng = np.random.default_rng(3)
    # hard-edged squares: a sharp photo's edges, 1 px wide at full size
    img = np.full((side, side, 3), 0.5, np.float32)
    for _ in range(120):
        y, x, s = rng.integers(0, side - 64), rng.integers(0, side - 64), rng.integers(8, 64)
        img[y:y + s, x:x + s] = rng.uniform(0.1, 0.9, 3)
    return img


def test_a_small_copy_gives_figures_but_the_verdict_is_the_whole_photos():
    full = Image(_sharp_photo(), ColorSpace.SRGB)
    whole = analyze_array(full.data)
    assert not any("blur" in f for f in whole.findings())
    small = downscale(full, 300)
    rep = quality_report(small, small, None, RunContext(), whole=whole)
    text = " ".join(rep.notes)
    verdict = "; ".join(whole.findings()) or "looks clean and well exposed"
    assert f"Whole photo (as Auto and photorestore analyze see it): {verdict}." in text
    assert "blurred" not in text
    assert "Before:" not in text and "After:" not in text  # no findings drawn from the 300-px copy
    blur = next(r for r in rep.rows if r[0].startswith("Blur"))
    assert blur[0] == "Blur: edge σ (px at 300 px wide)"
    assert blur[1] == blur[2]  # the same pixels on both sides


def test_at_full_size_before_and_after_get_their_own_findings():
    full = Image(_sharp_photo(256), ColorSpace.SRGB)
    rep = quality_report(full, full, None, RunContext(), whole=analyze_array(full.data))
    text = " ".join(rep.notes)
    assert "Before: " in text and "After: " in text
    assert any(r[0] == "Blur: edge σ (px)" for r in rep.rows)


def test_only_a_raw_op_first_previews_from_the_reduced_mosaic(datasets_dir):
    from app.core import workflow

    cr2 = datasets_dir / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    image = workflow.open_photo(cr2)
    assert not starts_on_mosaic(image, [])
    assert not starts_on_mosaic(image, [Step.make("lowlight")])  # the export develops first, then low light
    assert starts_on_mosaic(image, [Step.make("denoise"), Step.make("lowlight")])
    assert not starts_on_mosaic(image, [Step.make("denoise", enabled=False)])
    assert not starts_on_mosaic(preview_source(image, 600), []) and starts_on_mosaic(
        preview_source(image, 600), [Step.make("denoise")])
    srgb = Image(np.zeros((8, 8, 3), np.float32), ColorSpace.SRGB)
    assert not starts_on_mosaic(srgb, [Step.make("denoise")])
