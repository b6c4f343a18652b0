"""One opening policy for GUI and CLI (issue 21): a linear DNG (already demosaiced, no Bayer mosaic) opens
in the GUI, developed, as it does in ``photorestore run``; a Bayer RAW stays a mosaic in both."""

from __future__ import annotations

from conftest import open_and_wait

from app.core import workflow
from app.core.image import ColorSpace


def test_linear_dng_opens_in_the_gui_like_in_the_cli(qtbot, window, datasets_dir):
    dng = datasets_dir / "raw" / "unsupported" / "photoprism_Canon_EOS_6D_linearDNG.dng"
    assert workflow.open_photo(dng).space is ColorSpace.SRGB  # the CLI's open
    open_and_wait(qtbot, window, dng)
    assert window.doc.full is not None and window.doc.full.source.space is ColorSpace.SRGB
    qtbot.waitUntil(lambda: window.last_render is not None, timeout=60000)


def test_bayer_raw_previews_from_a_reduced_mosaic(qtbot, window, datasets_dir):
    cr2 = datasets_dir / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    open_and_wait(qtbot, window, cr2)
    full = window.doc.full
    assert full.source.space is ColorSpace.BAYER and full.render_source.space is ColorSpace.BAYER
    assert full.render_source.width < full.source.width  # binned, still a CFA mosaic
    qtbot.waitUntil(lambda: window.last_render is not None
                    and window.last_render.request.source is full.render_source, timeout=120000)
    shown = window.last_render.image
    assert shown.space is ColorSpace.SRGB and abs(shown.width - full.preview.width) <= 1
