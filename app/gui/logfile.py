"""Where the GUI writes its log; its own module so dialogs can show the path without importing app.gui.app."""

from __future__ import annotations

import os
from pathlib import Path


def log_file() -> Path:
    """Where the GUI writes its log (errors shown to the user are also recorded here)."""
    from PySide6.QtCore import QStandardPaths

    base = os.environ.get("PHOTORESTORE_SETTINGS")
    folder = Path(base).parent if base else Path(
        QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or Path.home())
    return folder / "photorestore.log"
