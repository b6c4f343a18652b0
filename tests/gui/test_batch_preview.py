"""Batch export skips files this app wrote (by their Software tag, not their name) and shows a thumbnail
strip of what it will process before it starts."""

from __future__ import annotations

import cv2
import numpy as np

from app.core.image import ColorSpace, Image
from app.core.io.export import save_image
from app.core.io.provenance import software_tag, written_by_photorestore
from app.core.workflow import ExportOptions
from app.gui.batch_dialog import BatchDialog


def test_exports_carry_the_software_tag_even_without_metadata(tmp_path):
    img = Image(np.random.default_rng(0).random((16, 24, 3), dtype=np.float32), ColorSpace.SRGB)
    for name, fmt in (("a.jpg", "jpg"), ("b.png", "png"), ("c.tif", "tiff16")):
        for keep in (True, False):
            out = save_image(img, tmp_path / f"{keep}{name}", format=fmt, keep_metadata=keep)
            assert written_by_photorestore(out) and software_tag(out).startswith("PhotoRestore ")
    plain = tmp_path / "camera.jpg"
    cv2.imwrite(str(plain), np.zeros((8, 8, 3), np.uint8))
    assert not written_by_photorestore(plain)
    assert not written_by_photorestore(tmp_path / "missing.jpg")


def test_batch_skips_own_outputs_and_shows_thumbnails(qtbot, window, photo_png, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    src = cv2.imread(str(photo_png))[:300, :400]
    cv2.imwrite(str(folder / "p0.jpg"), src)
    cv2.imwrite(str(folder / "p1_restored.jpg"), src)  # named like an output, but a camera file: kept
    img = Image(cv2.cvtColor(src, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0, ColorSpace.SRGB)
    save_image(img, folder / "holiday.jpg", keep_metadata=False)  # an export, renamed: skipped
    dlg = BatchDialog(window.compute, window.model.active_steps, ExportOptions(format="jpg"), str(folder))
    qtbot.addWidget(dlg)
    assert [p.name for p in dlg.files] == ["p0.jpg", "p1_restored.jpg"]
    assert [p.name for p in dlg.skipped] == ["holiday.jpg"]
    assert dlg.table.rowCount() == 3 and "skipped" in dlg.table.item(2, 1).text()
    assert "1 skipped" in dlg.recipe_label.text()
    assert dlg.strip.count() == 2 and dlg.strip.item(0).text() == "p0.jpg"
    qtbot.waitUntil(lambda: dlg.strip.loaded == 2, timeout=20000)  # before anything is started
    assert not dlg.jobs
    dlg.close()
