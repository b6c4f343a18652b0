"""Check, before Qt starts, that its X11 platform plugin can load; say what to install if not.

Qt aborts the whole process (SIGABRT, "Could not load the Qt platform plugin xcb") when ``libqxcb.so``
cannot be loaded, and its message names ``libxcb-cursor0`` even when other libraries are missing. This
module asks the dynamic loader (``ldd``) which libraries the plugin lacks, before any ``QApplication``
exists, so ``photorestore`` can print the Debian/Ubuntu packages to install and exit with code 2. It
imports no Qt: it must run where Qt cannot.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: What Qt's X11 plugin needs on a minimal Debian/Ubuntu (the README's list; docs/packaging.md has the
#: .deb's full Depends).
QT_SYSTEM_PACKAGES = (
    "libgl1", "libegl1", "libfontconfig1", "libfreetype6", "libglib2.0-0", "libdbus-1-3", "libx11-6",
    "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
    "libxcb-randr0", "libxcb-render0", "libxcb-render-util0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1",
    "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon0", "libxkbcommon-x11-0",
)

#: Sonames whose Debian package name does not follow the ``lib<name><N>`` rule.
_PACKAGE_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0",
                       "libGLX.so.0": "libglx0", "libGLdispatch.so.0": "libglvnd0"}


def package_for(soname: str) -> str:
    """Debian package name of a library soname: ``libxcb-icccm.so.4`` -> ``libxcb-icccm4``."""
    if soname in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[soname]
    m = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+).*", soname)
    if not m:
        return soname
    name, major = m.group(1).lower(), m.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, or None (not Linux, PySide6 missing, or a frozen layout without it)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for rel in ("Qt/plugins/platforms/libqxcb.so", "plugins/platforms/libqxcb.so"):
            p = Path(root) / rel
            if p.is_file():
                return p
    return None


def missing_libraries(plugin: Path, ldd: str | None = None) -> list[str]:
    """Sonames the loader cannot find for ``plugin`` (``ldd``'s "not found" lines), deduplicated."""
    ldd = ldd or shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = re.findall(r"^\s*(\S+)\s+=>\s+not found", out, flags=re.M)
    return list(dict.fromkeys(found))


def install_hint(missing: list[str]) -> str:
    """The message printed instead of Qt's abort."""
    pkgs = list(dict.fromkeys(package_for(s) for s in missing))
    return ("photorestore: the window cannot open: Qt's X11 plugin (xcb) is missing system libraries:\n"
            f"  {', '.join(missing)}\n"
            "Install them (Debian/Ubuntu):\n"
            f"  sudo apt-get install {' '.join(pkgs)}\n"
            "or everything Qt needs on a minimal system:\n"
            f"  sudo apt-get install {' '.join(QT_SYSTEM_PACKAGES)}\n"
            "The command line works without them: photorestore run --help")


def check_gui_platform(env: dict[str, str] | None = None, plugin: Path | None = None) -> str | None:
    """None when Qt can be started, else the message to print (the caller exits with code 2).

    Only the X11 route is checked: ``QT_QPA_PLATFORM`` naming another plugin (offscreen, wayland) is
    trusted; without a working xcb plugin but with a Wayland session, Qt is pointed at Wayland instead.
    """
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not platform and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("photorestore: no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
                "On a headless machine use the command line (photorestore run --help), or\n"
                "QT_QPA_PLATFORM=offscreen for a window nobody sees.")
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    if not missing:
        return None
    if env.get("WAYLAND_DISPLAY") and not platform:
        env["QT_QPA_PLATFORM"] = "wayland"
        return None
    return install_hint(missing)
