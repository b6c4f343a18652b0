"""One opening policy for GUI and CLI (issue 21): a linear DNG (already demosaiced, no Bayer mosaic) opens
in the GUI, developed, as it does in ``photorestore run``; a Bayer RAW stays a mosaic in both."""

from __future__ import annotations

import numpy as np
from conftest import open_and_wait

from app.core import workflow
from app.core.image import ColorSpace


def test_linear_dng_opens_in_the_gui_like_in_the_cli(qtbot, window, datasets_dir):
    dng = datasets_dir / "raw" / "unsupported" / "photoprism_Canon_EOS_6D_linearDNG.dng"
    assert workflow.open_photo(dng).space is ColorSpace.SRGB  # the CLI's open
    open_and_wait(qtbot, window, dng)
    assert window.doc.full is not None and window.doc.full.source.space is ColorSpace.SRGB
    qtbot.waitUntil(lambda: window.last_render is not None, timeout=60000)


def test_bayer_raw_previews_its_development_and_a_raw_op_from_a_reduced_mosaic(qtbot, window, datasets_dir):
    cr2 = datasets_dir / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    window.quality_dock.show()
    open_and_wait(qtbot, window, cr2, timeout=120000)
    full = window.doc.full
    assert full.source.space is ColorSpace.BAYER and full.render_source.space is ColorSpace.BAYER
    assert full.render_source.width < full.source.width  # binned, still a CFA mosaic
    # No op: the preview is the development the export starts from, so After is exactly Before (issue 20:
    # the reduced mosaic's own development was smoother, noise 0.59 vs 1.76/255).
    assert window.last_render.request.source is full.preview
    assert np.array_equal(window.last_render.image.data, full.preview.data)
    # The quality panel's verdict is the whole photo's, as Auto and `analyze` see it: the sharp f/22
    # landscape is not "blurred, 2.4 px" (what its 0.34-scale preview, scaled back up, read).
    qtbot.waitUntil(lambda: "Whole photo" in window.quality_panel.status.text(), timeout=120000)
    status = window.quality_panel.status.text()
    assert window.doc.analysis is not None and window.doc.analysis.findings() == []
    assert "looks clean and well exposed" in status and "blurred" not in status
    # A RAW op first: the preview runs it on the reduced mosaic, as the export runs it on the full one.
    window.model.set_enabled("denoise", True)
    qtbot.waitUntil(lambda: window.last_render is not None
                    and window.last_render.request.source is full.render_source, timeout=120000)
    shown = window.last_render.image
    assert shown.space is ColorSpace.SRGB and abs(shown.width - full.preview.width) <= 1
