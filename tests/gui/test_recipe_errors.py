"""Issue 22 in the GUI: a malformed recipe gives a message (nothing raises in the slot); errors name a file once."""

from __future__ import annotations

import sys

import pytest

from app.core.pipeline import Recipe

NAN_RECIPE = '{"format": "photorestore-recipe", "steps": [{"op": "unsharp", "params": {"amount": NaN}}]}'


@pytest.mark.parametrize("content", [NAN_RECIPE, '{"format": "photorestore-recipe", "steps": [1]}',
                                     '{"format": "photorestore-recipe", "version": "abc"}'])
def test_bad_recipe_shows_a_message_and_keeps_the_steps(qtbot, window, tmp_path, monkeypatch, content):
    hooked = []
    monkeypatch.setattr(sys, "excepthook", lambda *exc: hooked.append(exc))  # PySide6 routes slot errors here
    model, panel = window.model, window.ops_panel
    before = list(model.steps)
    path = tmp_path / "bad.json"
    path.write_text(content)
    with qtbot.waitSignal(panel.message, timeout=2000) as blocker:
        panel.load_recipe(str(path))
    assert blocker.args[0].startswith("bad.json: ") and "Loaded" not in blocker.args[0]
    assert model.steps == before and not hooked


def test_unexpected_loader_failure_is_a_message_too(qtbot, window, tmp_path, monkeypatch):
    def boom(path):
        raise TypeError("internal")

    monkeypatch.setattr(Recipe, "load", staticmethod(boom))
    with qtbot.waitSignal(window.ops_panel.message, timeout=2000) as blocker:
        window.ops_panel.load_recipe(str(tmp_path / "x.json"))
    assert "cannot load recipe" in blocker.args[0]


def test_open_error_names_the_file_once(qtbot, window, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    with qtbot.waitSignal(window.open_failed, timeout=20000) as blocker:
        window.open_photo(str(broken))
    text = blocker.args[0]
    assert text.startswith("Cannot open broken.jpg: ") and text.count("broken.jpg") == 1, text


def test_partly_available_op_shows_its_reason(qtbot, window, monkeypatch):
    """Issue 22 #10: denoise usable for RAW files only (its sRGB model corrupt) must not look fully available."""
    card = window.ops_panel.cards["denoise"]
    why = "only RAW files can be denoised (model cycleisp_srgb_denoise: weights file is corrupt)"
    monkeypatch.setattr(type(card.op), "availability", lambda self, params=None: (True, why))
    assert card.refresh_availability()
    assert card.check.isEnabled() and not card.reason.isHidden()
    assert card.reason.text() == f"Partly available: {why}"
    monkeypatch.setattr(type(card.op), "availability", lambda self, params=None: (True, ""))
    card.refresh_availability()
    assert card.reason.isHidden()
