"""Per-photo edits in the window: load a photo's sidecar on open, save edits back, copy/paste edits.

Each photo keeps its own recipe in a sidecar (:mod:`app.core.pipeline.sidecar`): opening a photo starts
from its sidecar, or from nothing (every op off), never from the previous photo's edits. Changes are
written back shortly after they stop (and before another photo opens, and on close). *Copy edits* /
*Paste edits* and *Apply edits to photos…* carry a recipe to other photos on purpose.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog

from app.core.pipeline import Recipe, RecipeError
from app.core.pipeline.sidecar import load_sidecar, save_sidecar

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

log = logging.getLogger("photorestore.gui")
SAVE_DELAY_MS = 400


def data_dir() -> Path:
    """The app's data folder (beside the settings file; tests isolate it with PHOTORESTORE_SETTINGS)."""
    from app.gui.logfile import log_file

    return log_file().parent


def beside_photos() -> bool:
    """Whether sidecars go beside the photos (default) or only into the data folder:
    ``PHOTORESTORE_SIDECARS=data`` (the tests set it, so they never write into photo folders)."""
    return os.environ.get("PHOTORESTORE_SIDECARS", "beside").strip().lower() != "data"


class PhotoEdits(QObject):
    """Keeps the window's :class:`~app.gui.edit_model.EditModel` in step with the open photo's sidecar."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.path: str | None = None  # the photo whose edits the model holds
        self.clipboard: Recipe | None = None
        self._loading = False
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.flush)
        win.model.changed.connect(self._changed)

    def switch_to(self, path: str | None) -> None:
        """Save the current photo's pending edits, then load ``path``'s (None: no photo, no edits)."""
        self.flush()
        if path == self.path:
            return
        previous, self.path = self.path, path
        recipe = None
        if path is not None:
            try:
                recipe = load_sidecar(path, data_dir())
            except RecipeError as exc:
                self.win.show_message(f"Edits of {Path(path).name} not loaded: {exc}", "error")
        if previous is None and recipe is None:
            return  # edits made before any photo was open (a preset, a loaded recipe) apply to the first one
        self._loading = True
        try:
            self.win.model.load_photo_recipe(recipe)
        finally:
            self._loading = False

    def _changed(self, *_: object) -> None:
        if not self._loading and self.path is not None:
            self._dirty = True
            self._timer.start()

    def flush(self) -> None:
        """Write pending edits now."""
        self._timer.stop()
        if not self._dirty or self.path is None:
            return
        self._dirty = False
        try:
            save_sidecar(self.path, self.win.model.recipe(), data_dir(), beside_photo=beside_photos())
        except OSError as exc:
            self.win.show_message(f"Edits of {Path(self.path).name} not saved: {exc}", "error")

    # -- on purpose ---------------------------------------------------------------------------------
    def copy(self) -> None:
        self.clipboard = self.win.model.recipe()
        n = len(self.clipboard.steps)
        self.win.show_message(f"Copied {n} edit{'s' if n != 1 else ''}." if n else "Copied: no edits.", "info")

    def paste(self) -> None:
        if self.clipboard is None:
            self.win.show_message("Nothing to paste: copy the edits of a photo first.", "info")
            return
        self.win.model.apply_recipe(self.clipboard, "Paste edits")

    def apply_to(self, paths: list[str]) -> int:
        """Write the current edits as the sidecar of every photo in ``paths``; returns how many."""
        self.flush()
        recipe, done = self.win.model.recipe(), 0
        for p in paths:
            if os.path.abspath(p) == os.path.abspath(self.path or ""):
                continue
            try:
                save_sidecar(p, recipe, data_dir(), beside_photo=beside_photos())
                done += 1
            except OSError as exc:
                self.win.show_message(f"Edits not applied to {Path(p).name}: {exc}", "error")
        return done

    def apply_dialog(self) -> None:
        from app.gui.resources import OPEN_FILTER

        folder = str(Path(self.path).parent) if self.path else self.win.settings.last_folder
        paths, _ = QFileDialog.getOpenFileNames(self.win, "Apply these edits to photos", folder, OPEN_FILTER)
        if paths:
            n = self.apply_to(paths)
            self.win.show_message(f"Edits applied to {n} photo{'s' if n != 1 else ''}.", "info")


def install(win: MainWindow) -> PhotoEdits:
    """Create the controller and its Edit-menu actions (Copy edits, Paste edits, Apply edits to photos…)."""
    from app.gui.actions import _act

    edits = PhotoEdits(win)
    acts = {"copy_edits": _act(win, "Copy edits", edits.copy, "Ctrl+Shift+C",
                               "Copy this photo's edits (the whole recipe)", section="Edit"),
            "paste_edits": _act(win, "Paste edits", edits.paste, "Ctrl+Shift+V",
                                "Replace this photo's edits with the copied ones (undoable)", section="Edit"),
            "apply_edits": _act(win, "Apply edits to photos…", edits.apply_dialog, "",
                                "Give the selected photos this photo's edits (written to their sidecars)")}
    win.actions_by_name.update(acts)
    edit_menu = next((a.menu() for a in win.menuBar().actions() if a.text() == "&Edit"), None)
    if edit_menu is not None:
        first = edit_menu.actions()[2] if len(edit_menu.actions()) > 2 else None  # after undo/redo
        edit_menu.insertActions(first, list(acts.values()))
        edit_menu.insertSeparator(first)
    return edits
