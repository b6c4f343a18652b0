"""Issue 22: a malformed recipe loaded in the GUI gives a message; nothing raises inside the slot."""

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
