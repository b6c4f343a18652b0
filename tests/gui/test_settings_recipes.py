"""Settings persistence, presets/recipes, the quality panel, and run_gui end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import open_and_wait
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.pipeline import Recipe, Step
from app.gui.main_window import MainWindow
from app.gui.settings import Settings


def test_settings_persist_recent_device_and_layout(qtbot, photo_png):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.ops_panel.set_device("cpu")
    open_and_wait(qtbot, win, photo_png)
    win.meta_dock.hide()  # a layout change the next window must restore
    win.close()
    s = Settings()
    assert s.device == "cpu"
    assert s.recent_files()[0] == str(Path(photo_png).resolve())
    assert s.last_folder == str(Path(photo_png).parent)
    win2 = MainWindow()
    qtbot.addWidget(win2)
    assert win2.ops_panel.device_value() == "cpu"
    assert win2.meta_dock.isHidden() and not win2.ops_dock.isHidden()
    win2.recent_menu.aboutToShow.emit()
    assert Path(photo_png).name in win2.recent_menu.actions()[0].text()
    win2.close()


def test_presets_and_recipe_files(qtbot, window, tmp_path, monkeypatch):
    model, panel = window.model, window.ops_panel
    model.set_enabled("unsharp", True)
    model.set_enabled("exposure", True)
    model.move("unsharp", -len(model.steps))  # sharpen first, then exposure
    model.set_param("exposure", "ev", 0.7)
    panel.presets.save("Bright and sharp", model.recipe())
    panel.refresh_presets()
    recipe_file = tmp_path / "r.json"
    model.recipe().save(recipe_file)
    model.apply_recipe(Recipe([]), "clear")
    assert model.active_steps() == []
    panel.preset_combo.setCurrentText("Bright and sharp")
    panel.apply_preset()
    assert [s.op_id for s in model.active_steps()] == ["unsharp", "exposure"]
    assert model.step("exposure").params.ev == pytest.approx(0.7)
    assert panel.cards["exposure"].controls["ev"].value() == pytest.approx(0.7)
    model.undo_stack.undo()
    assert model.active_steps() == []
    panel.load_recipe(str(recipe_file))
    assert [s.op_id for s in model.active_steps()] == ["unsharp", "exposure"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with qtbot.waitSignal(panel.message, timeout=1000) as blocker:
        panel.load_recipe(str(bad))
    assert "bad.json" in blocker.args[0]


def test_unavailable_op_is_shown_with_its_reason(qtbot, window, monkeypatch):
    card = window.ops_panel.cards["nlm_denoise"]
    monkeypatch.setattr(type(card.op), "availability", lambda self, params=None: (False, "weights missing"))
    card.refresh_availability()
    assert not card.check.isEnabled()
    assert card.reason.isVisible() and "weights missing" in card.reason.text()


def test_quality_panel_measures_before_and_after(qtbot, window, kdc_file):
    window.quality_dock.show()
    window.quality_timer.setInterval(10**7)  # no automatic re-measuring while this test measures
    open_and_wait(qtbot, window, kdc_file)  # small (0.4 MP): the metrics take seconds on big photos
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 1.0)
    qtbot.waitUntil(lambda: window.last_render is not None and bool(window.last_render.request.steps),
                    timeout=20000)
    table = window.quality_panel.table

    def rows() -> dict[str, tuple[str, str]]:
        return {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
                for r in range(table.rowCount()) if table.item(r, 2) is not None}

    window.load_reference(str(kdc_file))  # the photo itself as "ground truth"; measures when loaded
    qtbot.waitUntil(lambda: any("PSNR" in k for k in rows()), timeout=30000)
    got = rows()
    assert any("NIQE" in k for k in got) and any("Noise" in k for k in got)
    before, after = next(v for k, v in got.items() if "PSNR" in k)
    assert before == "∞"  # the original against itself
    assert float(after) < 30  # +1 EV is far from the reference
    assert "Reference: " in window.quality_panel.status.text()


@pytest.mark.parametrize("with_path", [True, False])
def test_run_gui_opens_the_photo_and_exits(qtbot, photo_png, with_path):
    import logging
    from logging.handlers import RotatingFileHandler

    from app.gui.app import log_file, run_gui
    from app.gui.resources import sample_photo

    if not with_path and sample_photo() is None:
        pytest.skip("bundled sample photo not there yet")
    opened: list[str] = []

    def close_when_open():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins and wins[0].doc is not None and wins[0].doc.full is not None:
            opened.append(wins[0].doc.path)
            wins[0].close()
        else:
            QTimer.singleShot(100, close_when_open)

    QTimer.singleShot(100, close_when_open)
    try:
        assert run_gui([str(photo_png)] if with_path else []) == 0
    finally:
        for h in [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]:
            logging.getLogger().removeHandler(h)
            h.close()
    expected = photo_png if with_path else sample_photo()
    assert opened == [str(expected)]
    assert Settings().recent_files()[0] == str(Path(expected).resolve())
    assert log_file().is_file()


def test_steps_come_back_with_their_photo(qtbot, window, photo_png, kdc_file):
    # Edits are per photo (issue 26): another photo starts from nothing; returning brings them back as Steps.
    open_and_wait(qtbot, window, photo_png)
    window.model.set_enabled("exposure", True)
    open_and_wait(qtbot, window, kdc_file)
    assert window.last_render.request.steps == [] or not any(s.enabled for s in window.last_render.request.steps)
    open_and_wait(qtbot, window, photo_png)
    assert [s.op_id for s in window.last_render.request.steps] == ["exposure"]
    assert isinstance(window.last_render.request.steps[0], Step)


def test_auto_recipe_from_the_photo_analysis(qtbot, window, datasets_dir):
    dark = datasets_dir / "demo" / "lowlight_sci_mit" / "difficult" / "2850.png"
    if not dark.is_file():
        pytest.skip("dark demo photo missing")
    open_and_wait(qtbot, window, dark)
    job = window.auto_recipe()
    with qtbot.waitSignal(job.finished, timeout=30000):
        pass
    ids = [s.op_id for s in window.model.active_steps()]
    assert ids and ids[0] in ("lowlight", "exposure")  # a dark photo gets brightened first
    assert "Auto" in window.message_bar.text and "low light" in window.message_bar.text
    window.model.undo_stack.undo()
    assert window.model.active_steps() == []


def test_auto_button_reuses_the_photos_plan(qtbot, window, photo_png, monkeypatch):
    # The quality panel and the Auto button judge the same whole photo: it is analysed once per photo.
    import app.gui.document as document

    calls = []
    real = document.plan_auto
    monkeypatch.setattr(document, "plan_auto", lambda image: calls.append(image) or real(image))
    open_and_wait(qtbot, window, photo_png)
    for _ in range(2):
        job = window.auto_recipe()
        with qtbot.waitSignal(job.finished, timeout=30000):
            pass
    assert calls == [window.doc.full.source]
    assert window.doc.analysis is window.doc.plan.analysis
