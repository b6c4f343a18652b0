"""The device menu's CPU runtime entries: saved in the settings, applied as the process's backend."""

from __future__ import annotations

from app.core.infer import backends
from app.gui.main_window import MainWindow
from app.gui.settings import Settings


def test_cpu_runtime_choice_is_applied_and_remembered(qtbot, monkeypatch):
    monkeypatch.setattr(backends, "_default", "auto")  # restored after the test
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.ops_panel
    panel.set_device("cpu", "onnxruntime")
    assert (panel.device_value(), panel.backend_value()) == ("cpu", "onnxruntime")
    assert backends._default == "onnxruntime"
    s = Settings()
    assert (s.device, s.backend) == ("cpu", "onnxruntime")
    win.close()
    win2 = MainWindow()
    qtbot.addWidget(win2)
    assert win2.ops_panel.backend_value() == "onnxruntime"
    win2.ops_panel.set_device("cuda")
    assert win2.ops_panel.backend_value() == "auto" and backends._default == "auto"
    win2.close()
