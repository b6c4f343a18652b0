"""The GUI's Auto button plans a RAW file like ``analyze`` and ``run --op auto`` do (issue 20)."""

from __future__ import annotations

import os

import pytest
from conftest import open_and_wait


@pytest.mark.slow
def test_auto_on_the_daylight_cr2_applies_nothing(qtbot, window, datasets_dir):
    cr2 = datasets_dir / "raw" / "bayer" / "debian-rawtran-doc_Canon_EOS_30D_IMG_5952.CR2"
    if not cr2.is_file():
        pytest.skip("Canon 30D CR2 missing")
    open_and_wait(qtbot, window, cr2, timeout=120000)
    job = window.auto_recipe()
    with qtbot.waitSignal(job.finished, timeout=120000):
        pass
    assert window.model.active_steps() == []
    assert "nothing to fix" in window.message_bar.text and "no restorations" in window.message_bar.text
    shot = os.environ.get("PHOTORESTORE_SCREENSHOT")
    if shot:  # for looking at (docs/auto.md): PHOTORESTORE_SCREENSHOT=auto_cr2.png pytest -m slow ...
        window.grab().save(shot)
