"""Histogram (RGB + luminance, before/after, log) after each preview render, and the clipping overlay (J)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import open_and_wait

from app.core.metrics.histogram import MAX_PIXELS, clipping_masks, rgb_histogram


def test_histogram_counts_and_luma():
    u8 = np.zeros((10, 20, 3), np.uint8)
    u8[:, :10] = (255, 0, 0)
    h = rgb_histogram(u8, bins=256)
    assert h.shape == (4, 256) and h[0, 255] == 100 and h[0, 0] == 100 and h[1, 0] == 200
    assert h[3, round(0.2126 * 255)] == 100  # pure red's luma
    big = np.zeros((2000, 1500, 3), np.uint8)
    assert rgb_histogram(big, 128)[3].sum() <= MAX_PIXELS  # subsampled: cheap on any preview
    with pytest.raises(ValueError):
        rgb_histogram(u8.astype(np.float32))


def test_clipping_masks():
    u8 = np.array([[[0, 0, 1], [0, 0, 2], [255, 10, 10], [253, 253, 253]]], np.uint8)
    sh, hi = clipping_masks(u8)
    assert sh.tolist() == [[True, False, False, False]] and hi.tolist() == [[False, False, True, False]]


def test_histogram_follows_the_preview(qtbot, window, photo_png):
    window.histogram_dock.show()
    open_and_wait(qtbot, window, photo_png)
    plot = window.histogram.panel.plot
    qtbot.waitUntil(lambda: plot.after is not None and plot.before is not None, timeout=5000)
    first = plot.after.copy()
    mean = lambda h: float((h * np.arange(h.size)).sum() / h.sum())  # noqa: E731
    # nothing enabled yet: the same picture (the before side comes from the full decode, so other counts)
    assert abs(mean(first[3]) - mean(plot.before[3])) < 1.0
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 1.5)
    qtbot.waitUntil(lambda: mean(plot.after[3]) > mean(plot.before[3]) + 5, timeout=20000)  # brighter after
    assert any(s.op_id == "exposure" for s in window.last_render.request.steps)
    assert "highlights" in window.histogram.panel.clip_label.text()
    panel = window.histogram.panel
    panel.log_box.setChecked(True)
    assert plot.log_scale
    panel.before_box.setChecked(False)
    assert not plot.show_before
    plot.repaint()


def test_j_toggles_the_clipping_overlay(qtbot, window, photo_png):
    open_and_wait(qtbot, window, photo_png)
    window.model.set_enabled("exposure", True)
    window.model.set_param("exposure", "ev", 3.0)  # blows the bright square
    qtbot.waitUntil(lambda: any(s.op_id == "exposure" for s in window.last_render.request.steps), timeout=20000)
    act = window.actions_by_name["clipping"]
    assert act.shortcut().toString() == "J"
    act.trigger()
    layers = window.view._layers("after")
    assert layers[-1].tag.get("clipping")
    rgba = layers[-1].levels[0].array
    assert rgba.shape[2] == 4 and (rgba[..., 0] == 255).any()  # some highlights marked red
    act.trigger()
    assert not window.view._layers("after")[-1].tag.get("clipping")
