"""One slider gesture = one undo step: a drag of the prominent slider turns the op on, leaves its automatic
value and moves through many positions, and one Undo puts all of it back (issue 21)."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _drag(qtbot, control, positions):
    slider = control.slider
    slider.setEnabled(True)  # disabled while the op's model is missing; the gesture logic is what we test
    control.setEnabled(True)
    slider.setSliderDown(True)  # emits sliderPressed, as a mouse press on the handle does
    for pos in positions:
        slider.setValue(pos)
        qtbot.wait(5)
    slider.setSliderDown(False)  # emits sliderReleased


def test_a_slider_drag_is_one_undo_step(qtbot, window):
    window.model.sync_ops()
    panel, stack = window.ops_panel, window.model.undo_stack
    assert panel.prominent_op == "lowlight"
    before = window.model.step("lowlight")
    assert not before.enabled and before.params.auto_ratio
    count = stack.count()
    start = panel.prominent.slider.value()
    _drag(qtbot, panel.prominent, [start + 3, start + 6, start + 9, start + 12])
    after = window.model.step("lowlight")
    assert after.enabled and not after.params.auto_ratio and after.params.ratio != before.params.ratio
    assert stack.count() == count + 1, [stack.text(i) for i in range(stack.count())]
    assert "Low" in stack.undoText() or "light" in stack.undoText().lower()
    stack.undo()
    assert window.model.step("lowlight") == before  # on/off, auto and value: all of the drag undone
    stack.redo()
    assert window.model.step("lowlight") == after


def test_keyboard_steps_outside_a_drag_still_merge(qtbot, window):
    window.model.sync_ops()
    panel, stack = window.ops_panel, window.model.undo_stack
    window.model.set_enabled("lowlight", True)
    window.model.set_param("lowlight", "auto_ratio", False)
    count = stack.count()
    slider = panel.prominent.slider
    slider.setEnabled(True)
    panel.prominent.setEnabled(True)
    slider.setFocus()
    for _ in range(3):
        qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert stack.count() == count + 1  # consecutive moves of one parameter merge (within 1.5 s)


def test_a_press_without_a_change_leaves_no_step(qtbot, window):
    window.model.sync_ops()
    stack = window.model.undo_stack
    count = stack.count()
    slider = window.ops_panel.prominent.slider
    slider.setSliderDown(True)
    slider.setSliderDown(False)
    assert stack.count() == count
