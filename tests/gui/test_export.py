"""Export from the window (full resolution, in the worker) and batch export of a folder."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from conftest import open_and_wait
from PySide6.QtCore import Qt

from app.core.batch import MANIFEST_NAME
from app.core.io import load_image
from app.core.workflow import ExportOptions
from app.gui.batch_dialog import BatchDialog
from app.gui.export_dialog import ExportDialog


def test_export_processes_full_resolution_and_reopens(qtbot, window, kdc_file, tmp_path):
    open_and_wait(qtbot, window, kdc_file)
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 1.0)
    out = tmp_path / "kodak_restored.png"
    with qtbot.waitSignal(window.exported, timeout=30000) as blocker:
        job = window.export_to(out, ExportOptions(format="png16", keep_metadata=True))
        assert job is not None
    assert blocker.args == [str(out)]
    assert "Exported" in window.message_bar.text
    again = load_image(str(out))
    w, h = window.doc.full_size
    assert (again.width, again.height) == (w, h)  # full resolution, not the preview
    developed = window.doc.full.developed.data
    assert again.data.mean() > developed.mean() * 1.2  # the exposure op was applied
    # and the export can be opened in the app
    open_and_wait(qtbot, window, out)
    assert window.doc.full_size == (w, h)


def test_export_never_overwrites_the_original(qtbot, window, photo_png, tmp_path):
    src = tmp_path / "orig.png"
    shutil.copy(photo_png, src)
    before = src.read_bytes()
    open_and_wait(qtbot, window, src)
    dlg = ExportDialog(str(src), str(tmp_path), ExportOptions(format="png"), window.doc.full_size, window)
    qtbot.addWidget(dlg)
    assert dlg.target() != src and dlg.export_button.isEnabled()
    dlg.path_edit.setText(str(src))
    assert not dlg.export_button.isEnabled() and "never overwritten" in dlg.warning.text()
    dlg.options_widget.overwrite.setChecked(True)
    assert not dlg.export_button.isEnabled()  # not even with "replace existing output"
    # the worker path refuses too (core protects inputs), with a readable message
    job = window.export_to(src, ExportOptions(format="png", overwrite=True))
    with qtbot.waitSignal(job.finished, timeout=20000):
        pass
    assert job.state == "failed" and window.message_bar.level == "error"
    assert src.read_bytes() == before


def test_export_dialog_formats(qtbot, tmp_path, photo_png):
    dlg = ExportDialog(str(photo_png), str(tmp_path), ExportOptions(format="jpg", quality=80), (1800, 1200))
    qtbot.addWidget(dlg)
    w = dlg.options_widget
    assert w.quality.isEnabled() and w.quality.value() == 80 and not w.depth.isEnabled()
    w.kind.setCurrentText("PNG")
    w.depth.setCurrentIndex(w.depth.findData("png16"))
    assert dlg.options().format == "png16" and not w.quality.isEnabled()
    assert dlg.target().suffix == ".png"
    w.kind.setCurrentText("TIFF")
    assert dlg.options().format == "tiff16" and dlg.target().suffix == ".tif"


def test_batch_export_queue(qtbot, window, photo_png, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        img = cv2.imread(str(photo_png))[: 300 + 50 * i, :400]
        cv2.imwrite(str(folder / f"p{i}.jpg"), img)
    (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    (folder / "notes.txt").write_text("not a photo")
    window.model.set_enabled("exposure", True)
    dlg = BatchDialog(window.compute, window.model.active_steps, ExportOptions(format="jpg"), str(folder))
    qtbot.addWidget(dlg)
    assert [p.name for p in dlg.files] == ["p0.jpg", "p1.jpg", "zz_broken.png"]
    assert "Exposure" in dlg.recipe_label.text()
    with qtbot.waitSignal(dlg.finished_all, timeout=30000) as blocker:
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [2, 1]
    out = folder / "restored"
    assert sorted(p.name for p in out.iterdir()) == ["p0_restored.jpg", "p1_restored.jpg", MANIFEST_NAME]
    assert "batch: 2 done, 0 skipped (done earlier), 1 failed" in dlg.summary_label.text()
    assert "failed" in dlg.table.item(2, 1).text()
    assert dlg.progress.value() == 1000
    reopened = load_image(str(out / "p1_restored.jpg"))
    assert reopened.height == 350 and np.isfinite(reopened.data).all()
    # started again (the same engine and manifest as `photorestore run`): what is done is skipped, the
    # broken file is tried again; nothing is rewritten
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jpg")}
    with qtbot.waitSignal(dlg.finished_all, timeout=30000) as blocker:
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [0, 1]
    assert "batch: 0 done, 2 skipped (done earlier), 1 failed" in dlg.summary_label.text()
    assert dlg.table.item(0, 1).text() == "skipped: done earlier (p0_restored.jpg)"
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.jpg")} == first


@pytest.mark.parametrize("overwrite", [False, True])
def test_batch_export_same_stem_different_format_keeps_both(qtbot, window, photo_png, tmp_path, overwrite):
    """Issue 22 #1 in the GUI: a.jpg and a.png both export; neither replaces the other's result."""
    folder = tmp_path / "in"
    folder.mkdir()
    img = cv2.imread(str(photo_png))[:200, :300]
    cv2.imwrite(str(folder / "a.jpg"), img)
    cv2.imwrite(str(folder / "a.png"), 255 - img)
    dlg = BatchDialog(window.compute, window.model.active_steps, ExportOptions(format="jpg", overwrite=overwrite),
                      str(folder))
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.finished_all, timeout=30000) as blocker:
        qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [2, 0]
    out = sorted((folder / "restored").glob("*.jpg"))
    assert [p.name for p in out] == ["a_restored-png.jpg", "a_restored.jpg"]
    assert cv2.imread(str(out[0])).mean() > cv2.imread(str(out[1])).mean() + 20  # the inverted one is a.png's


def test_export_dng_from_a_raw_and_refused_for_a_png(qtbot, window, kdc_file, photo_png, tmp_path):
    import rawpy

    open_and_wait(qtbot, window, kdc_file)
    for step in list(window.model.active_steps()):  # a recipe sidecar beside the photo may enable ops
        window.model.set_enabled(step.op_id, False)
    out = tmp_path / "kodak.dng"
    with qtbot.waitSignal(window.exported, timeout=60000):
        assert window.export_to(out, ExportOptions(format="dng")) is not None
    with rawpy.imread(str(out)) as raw:  # no op enabled: the RAW mosaic itself, as a CFA DNG
        assert raw.raw_type == rawpy.RawType.Flat and raw.raw_image_visible.shape == (512, 768)
    raw_dlg = ExportDialog(str(kdc_file), str(tmp_path), ExportOptions(format="dng"), (768, 512))
    png_dlg = ExportDialog(str(photo_png), str(tmp_path), ExportOptions(format="dng"), (1800, 1200))
    qtbot.addWidget(raw_dlg)
    qtbot.addWidget(png_dlg)
    assert raw_dlg.options_widget.kind.currentText() == "DNG (RAW)" and raw_dlg.target().suffix == ".dng"
    assert raw_dlg.export_button.isEnabled()
    assert not png_dlg.export_button.isEnabled() and "needs a RAW photo" in png_dlg.warning.text()
