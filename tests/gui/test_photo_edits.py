"""Per-photo edits: each photo keeps its recipe in a sidecar; another photo starts from its own or from
nothing; copy/paste and apply-to-photos carry edits on purpose; a failed open keeps the current photo."""

from __future__ import annotations

import shutil

import pytest
from conftest import open_and_wait

from app.core.pipeline.sidecar import beside, in_data_dir, load_sidecar
from app.gui.sidecars import data_dir


@pytest.fixture
def two_photos(photo_png, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_SIDECARS", "beside")  # the app's default; conftest keeps tests to "data"
    a, b = tmp_path / "dark.png", tmp_path / "day.png"
    shutil.copy(photo_png, a)
    shutil.copy(photo_png, b)
    return a, b


def _ev(window) -> tuple[bool, float]:
    s = window.model.step("exposure")
    return s.enabled, s.params.ev


def test_each_photo_keeps_its_own_edits(qtbot, window, two_photos):
    a, b = two_photos
    open_and_wait(qtbot, window, a)
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 1.5)
    open_and_wait(qtbot, window, b)  # saves a's edits first
    assert _ev(window) == (False, 0.0)  # b starts from nothing, not from a's +1.5 EV
    assert load_sidecar(a, None).steps[0].params.ev == 1.5
    assert not beside(b).exists()
    assert not window.model.undo_stack.canUndo()  # undo never reaches into another photo's edits
    open_and_wait(qtbot, window, a)
    assert _ev(window) == (True, 1.5)
    card = window.ops_panel.cards["exposure"]
    assert card.check.isChecked() and card.controls["ev"].value() == pytest.approx(1.5)


def test_turning_every_edit_off_removes_the_sidecar(qtbot, window, two_photos):
    a, _ = two_photos
    open_and_wait(qtbot, window, a)
    window.model.set_enabled("exposure", True)
    qtbot.waitUntil(lambda: beside(a).exists(), timeout=5000)
    window.model.set_enabled("exposure", False)
    qtbot.waitUntil(lambda: not beside(a).exists(), timeout=5000)


def test_copy_paste_and_apply_to_photos(qtbot, window, two_photos, tmp_path):
    a, b = two_photos
    c = tmp_path / "third.png"
    shutil.copy(a, c)
    open_and_wait(qtbot, window, a)
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 0.8)
    window.actions_by_name["copy_edits"].trigger()
    assert window.edits.apply_to([str(c)]) == 1
    assert load_sidecar(c, None).steps[0].params.ev == 0.8
    open_and_wait(qtbot, window, b)
    assert _ev(window) == (False, 0.0)
    window.actions_by_name["paste_edits"].trigger()
    assert _ev(window) == (True, 0.8)
    window.model.undo_stack.undo()  # pasting is one undoable step
    assert _ev(window) == (False, 0.0)


def test_failed_open_keeps_the_current_photo_and_its_edits(qtbot, window, two_photos, tmp_path):
    a, _ = two_photos
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    open_and_wait(qtbot, window, a)
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 0.6)
    with qtbot.waitSignal(window.open_failed, timeout=20000):
        window.open_photo(bad)
    assert window.doc is not None and window.doc.path == str(a)
    assert "dark.png" in window.windowTitle()
    assert _ev(window) == (True, 0.6)
    assert window.message_bar.isVisible() and "broken.jpg" in window.message_bar.text
    steps = window.model.active_steps()
    qtbot.waitUntil(lambda: window.last_render is not None
                    and window.last_render.request.key == window.doc.preview_source(steps)[1], timeout=20000)


def test_data_folder_mode_never_writes_beside_the_photo(qtbot, window, two_photos, monkeypatch):
    monkeypatch.setenv("PHOTORESTORE_SIDECARS", "data")
    a, _ = two_photos
    open_and_wait(qtbot, window, a)
    window.model.set_enabled("exposure", True)
    qtbot.waitUntil(lambda: in_data_dir(a, data_dir()).exists(), timeout=5000)
    assert not beside(a).exists()
    assert load_sidecar(a, data_dir()).steps[0].op_id == "exposure"
