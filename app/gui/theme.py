"""The dark, neutral theme: Fusion style + a grey palette + ``resources/theme/dark.qss``."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.gui.resources import resource

log = logging.getLogger("photorestore.gui")


def dark_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#242427", QPalette.ColorRole.WindowText: "#d8d8da",
        QPalette.ColorRole.Base: "#1b1b1e", QPalette.ColorRole.AlternateBase: "#26262a",
        QPalette.ColorRole.ToolTipBase: "#1d1d20", QPalette.ColorRole.ToolTipText: "#e0e0e2",
        QPalette.ColorRole.Text: "#d8d8da", QPalette.ColorRole.Button: "#34343a",
        QPalette.ColorRole.ButtonText: "#d8d8da", QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#4a6da7", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#8fb0e8", QPalette.ColorRole.PlaceholderText: "#77777e",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6a6a70"))
    return pal


def apply_dark_theme(app: QApplication) -> None:
    """Style the whole application (safe to call more than once)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    qss = resource("theme", "dark.qss")
    try:
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    except OSError as exc:
        log.warning("theme stylesheet not loaded: %s", exc)
