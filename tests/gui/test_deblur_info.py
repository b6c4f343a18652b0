"""The shake/defocus findings widget: kernel image, radius text, region picker (pytest-qt)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from app.core.ops import get_op
from app.gui.panels.deblur_info import DeblurInfo, RegionDialog, summary_text
from app.gui.panels.op_card import OpCard


def test_shake_card_shows_kernel_and_emits_a_picked_region(qtbot):
    card = OpCard(get_op("shake"))
    qtbot.addWidget(card)
    info = card.deblur_info
    assert info is not None and not info.pick.isEnabled()
    k = np.zeros((15, 15), np.float32)
    k[7, 3:12] = 1 / 9
    img = QImage(200, 100, QImage.Format.Format_RGB888)
    img.fill(0x808080)
    card.show_result({"shake": {"kernel": k.tolist(), "kernel_size": 15, "spread": 2.6,
                                "applied": True, "reason": ""}}, img)
    assert info.kernel.pixmap().width() == 72 and "kernel 15 px" in info.text.text()
    assert info.pick.isEnabled()
    seen = []
    card.param_changed.connect(lambda op, name, value: seen.append((op, name, value)))
    info.region_picked.emit("0.100,0.200,0.500,0.900")
    assert seen == [("shake", "region", "0.100,0.200,0.500,0.900")]


def test_region_dialog_turns_a_rectangle_into_fractions(qtbot):
    img = QImage(400, 200, QImage.Format.Format_RGB888)
    img.fill(0)
    dlg = RegionDialog(img)
    qtbot.addWidget(dlg)
    w, h = dlg.label.width(), dlg.label.height()
    dlg.set_rect(QRect(0, 0, w // 2, h // 2))
    x0, y0, x1, y1 = (float(v) for v in dlg.region_text().split(","))
    assert (x0, y0) == (0.0, 0.0) and abs(x1 - 0.5) < 0.01 and abs(y1 - 0.5) < 0.01
    dlg.set_rect(QRect(0, 0, 3, 3))
    assert dlg.region_text() == ""  # too small: stays automatic


def test_defocus_text_says_why_it_left_the_photo(qtbot):
    w = DeblurInfo("defocus")
    qtbot.addWidget(w)
    assert not w.kernel.isVisibleTo(w)
    w.show_result({"shape": "disk", "radius": 0.4, "applied": False, "reason": "in focus"})
    assert "radius 0.4 px" in w.text.text() and "in focus" in w.text.text()
    assert "map 0.5–6.1" in summary_text("defocus", {"shape": "ring", "radius": 3, "radius_min": 0.5,
                                                     "radius_max": 6.1, "applied": True})
