"""The guard against PySide6 builds that lose references to None/True (6.12.0 on CPython 3.11)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.gui import qt_compat


class _Emitter(QObject):
    pinged = Signal(int)


def test_many_void_calls_and_emits_do_not_exhaust_singletons(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    e = _Emitter()
    got = []
    e.pinged.connect(got.append)
    # Far more than the few thousand references None/True start with on CPython 3.11.
    for i in range(60_000):
        w.update()
        if i % 10 == 0:
            e.pinged.emit(i)
    assert len(got) == 6_000
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0


def test_guard_is_applied_exactly_when_needed():
    if sys.version_info >= (3, 12):
        assert not qt_compat._protected
    else:
        # a binding that loses references must have been caught (it still loses them; harmlessly)
        assert qt_compat._protected or not qt_compat.binding_loses_references()
