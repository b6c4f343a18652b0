"""The GUI launcher says which system libraries Qt's X11 plugin lacks instead of letting Qt abort."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from app import qt_preflight as pf

ROOT = Path(__file__).resolve().parents[2]


def _fake_ldd(tmp_path: Path, lines: str) -> str:
    script = tmp_path / "ldd"
    script.write_text(f"#!/bin/sh\ncat <<'X'\n{lines}\nX\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_package_names_follow_debian():
    assert pf.package_for("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert pf.package_for("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert pf.package_for("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert pf.package_for("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert pf.package_for("libX11-xcb.so.1") == "libx11-xcb1"
    assert pf.package_for("libdbus-1.so.3") == "libdbus-1-3"
    assert pf.package_for("libglib-2.0.so.0") == "libglib2.0-0"


def test_missing_libraries_read_from_ldd(tmp_path):
    ldd = _fake_ldd(tmp_path, "\tlibxcb-cursor.so.0 => /lib/libxcb-cursor.so.0 (0x1)\n"
                              "\tlibxcb-icccm.so.4 => not found\n\tlibxcb-keysyms.so.1 => not found\n"
                              "\tlibxcb-icccm.so.4 => not found")
    assert pf.missing_libraries(tmp_path / "libqxcb.so", ldd) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_check_names_packages_and_is_quiet_when_fine(tmp_path, monkeypatch):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(pf, "missing_libraries", lambda p: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    msg = pf.check_gui_platform({"DISPLAY": ":0"}, plugin)
    assert msg is not None and "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in msg
    # Another platform plugin requested, or a Wayland session to fall back on: no complaint.
    assert pf.check_gui_platform({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, plugin) is None
    env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert pf.check_gui_platform(env, plugin) is None and env["QT_QPA_PLATFORM"] == "wayland"
    monkeypatch.setattr(pf, "missing_libraries", lambda p: [])
    assert pf.check_gui_platform({"DISPLAY": ":0"}, plugin) is None


def test_no_display_is_a_message_not_an_abort():
    msg = pf.check_gui_platform({})
    if sys.platform.startswith("linux"):
        assert msg is not None and "DISPLAY" in msg


def test_launcher_exits_2_with_the_list(tmp_path):
    """End to end: the real ``photorestore`` entry with a plugin that lacks libraries exits 2, no SIGABRT."""
    ldd = _fake_ldd(tmp_path, "\tlibxcb-keysyms.so.1 => not found")
    code = ("import app.qt_preflight as pf, shutil; real = shutil.which; "
            f"shutil.which = lambda n: {ldd!r} if n == 'ldd' else real(n); "
            "from app.cli import main; raise SystemExit(main([]))")
    env = {**os.environ, "DISPLAY": ":9999", "QT_QPA_PLATFORM": "", "PYTHONPATH": str(ROOT)}
    env.pop("WAYLAND_DISPLAY", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    if pf.xcb_plugin() is None:
        return  # no PySide6 X11 plugin on this platform: nothing to check
    assert r.returncode == 2, r.stderr
    assert "libxcb-keysyms1" in r.stderr and "libxcb-icccm4" in r.stderr  # the one missing + the full list


def test_readme_lists_every_package():
    readme = (ROOT / "README.md").read_text()
    assert all(p in readme for p in pf.QT_SYSTEM_PACKAGES), [p for p in pf.QT_SYSTEM_PACKAGES if p not in readme]
