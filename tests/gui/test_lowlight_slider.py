"""The prominent ratio slider drives the real ``lowlight`` op: setting a ratio turns its automatic ratio off.

No weights are needed: the panel's handlers are driven directly (the slider widget is disabled while the op
is unavailable). With shipped weights, ``test_processing.py`` drags the slider through the real pipeline.
"""

from __future__ import annotations


def test_setting_the_ratio_turns_auto_ratio_off(qtbot, window):
    window.model.sync_ops()
    panel = window.ops_panel
    assert panel.prominent_op == "lowlight"  # the real op takes the prominent slot
    assert window.model.step("lowlight").params.auto_ratio
    ok, _ = panel.cards["lowlight"].op.availability(window.model.step("lowlight").params)
    if ok:
        assert "automatic" in panel.prominent_label.text()
    panel._prominent_moved("lowlight", "ratio", 3.0)
    params = window.model.step("lowlight").params
    assert params.ratio == 3.0 and not params.auto_ratio
    assert window.model.step("lowlight").enabled  # moving the slider turns the op on
    window.model.set_param("lowlight", "auto_ratio", True)
    panel._param_edited("lowlight", "ratio", 1.5)  # the card's own ratio control: same rule
    params = window.model.step("lowlight").params
    assert params.ratio == 1.5 and not params.auto_ratio


def test_slider_and_card_show_the_automatic_ratio_in_use(qtbot, window):
    """Issue 20: while automatic, the slider showed 2.00 (the param's default), not the ratio used, so
    moving it 'up' from there could darken the picture."""
    window.model.sync_ops()
    panel = window.ops_panel
    window.model.set_enabled("lowlight", True)
    panel.show_used_values({"lowlight": {"ratio": 5.25, "auto": True}})
    params = window.model.step("lowlight").params
    assert params.auto_ratio and params.ratio == 2.0  # showing the value changes no param
    assert panel.prominent.value() == 5.25
    assert panel.cards["lowlight"].controls["ratio"].value() == 5.25
    ok, _ = panel.cards["lowlight"].op.availability(params)
    if ok:
        assert "automatic ×5.25" in panel.prominent_label.text()
    panel.show_used_values({})  # a render without the op (or with a manual ratio): back to the param
    assert panel.prominent.value() == 2.0 and panel.cards["lowlight"].controls["ratio"].value() == 2.0
    panel.show_used_values({"lowlight": {"ratio": 5.25, "auto": True}})
    panel._prominent_moved("lowlight", "ratio", 5.5)  # a step up from the value shown
    params = window.model.step("lowlight").params
    assert params.ratio == 5.5 and not params.auto_ratio
    assert panel.prominent.value() == 5.5 and "×5.5" in panel.prominent_label.text()
