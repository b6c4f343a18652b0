"""Where the GUI finds its bundled files (icons, theme, sample photo).

Resources live in ``resources/`` next to the ``app`` package in a checkout, or next to the
executable in a frozen (PyInstaller) build. ``PHOTORESTORE_RESOURCES`` overrides both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.core.workflow.files import SUPPORTED_EXTENSIONS


def resources_dir() -> Path:
    env = os.environ.get("PHOTORESTORE_RESOURCES")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def sample_photo() -> Path | None:
    """The bundled sample photo opened when the app starts without a file, if present."""
    for name in ("sample.jpg", "sample.png", "sample.tif"):
        p = resource("samples", name)
        if p.is_file():
            return p
    return None


def icon_path() -> Path:
    svg = resource("icons", "photorestore.svg")
    return svg if svg.is_file() else resource("icons", "photorestore.png")

#: file-dialog filter for photos: the one list of supported types (app.core.workflow).
OPEN_FILTER = "Photos ({});;All files (*)".format(
    " ".join(f"*{e} *{e.upper()}" for e in sorted(SUPPORTED_EXTENSIONS)))
