"""Menus, toolbar and keyboard shortcuts of the main window (kept apart from its behaviour)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

#: (section, keys, what) shown by Help ▸ Keyboard shortcuts.
SHORTCUTS: list[tuple[str, str, str]] = []


def _act(win: MainWindow, text: str, slot: Callable[..., object] | None = None, keys: str | list[str] = "",
         tip: str = "", checkable: bool = False, section: str = "") -> QAction:
    a = QAction(text, win)
    seqs = [keys] if isinstance(keys, str) else keys
    seqs = [k for k in seqs if k]
    if seqs:
        a.setShortcuts([QKeySequence(k) for k in seqs])
        if section:
            native = QKeySequence.SequenceFormat.NativeText
            keys_text = " / ".join(QKeySequence(k).toString(native) for k in seqs)
            SHORTCUTS.append((section, keys_text, text.replace("&", "").rstrip("…")))
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.setCheckable(checkable)
    if slot is not None:
        a.triggered.connect(slot)
    win.addAction(a)
    return a


def build_actions(win: MainWindow) -> dict[str, QAction]:
    """Create the window's actions, menus and toolbar; returns the actions by name."""
    SHORTCUTS.clear()
    v = win.view
    A: dict[str, QAction] = {}
    A["open"] = _act(win, "&Open…", win.open_dialog, "Ctrl+O",
                     "Open a RAW or raster photo", section="File")
    A["next"] = _act(win, "Next photo in folder", lambda: win.open_sibling(1), "PgDown", section="File")
    A["prev"] = _act(win, "Previous photo in folder", lambda: win.open_sibling(-1), "PgUp", section="File")
    A["export"] = _act(win, "&Export…", win.export_dialog, "Ctrl+E", "Process at full resolution and save",
                       section="File")
    A["batch"] = _act(win, "&Batch export…", win.batch_dialog, "Ctrl+Shift+E",
                      "Apply the recipe to a folder of photos", section="File")
    A["save_recipe"] = _act(win, "Save recipe / preset…", win.ops_panel.save_recipe, "Ctrl+S", section="File")
    A["load_recipe"] = _act(win, "Load recipe…", lambda: win.ops_panel.load_recipe(), "Ctrl+L",
                            section="File")
    A["quit"] = _act(win, "&Quit", win.close, "Ctrl+Q", section="File")

    A["undo"] = win.model.undo_stack.createUndoAction(win, "&Undo")
    A["undo"].setShortcuts([QKeySequence("Ctrl+Z")])
    A["redo"] = win.model.undo_stack.createRedoAction(win, "&Redo")
    A["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    SHORTCUTS.extend([("Edit", "Ctrl+Z", "Undo a parameter change"),
                      ("Edit", "Ctrl+Shift+Z / Ctrl+Y", "Redo")])
    A["live"] = _act(win, "Live preview", win.set_live_preview, "P",
                     "Re-render the preview whenever a parameter changes", checkable=True, section="Edit")
    A["live"].setChecked(True)
    A["auto"] = _act(win, "Auto recipe", win.auto_recipe, "Ctrl+Shift+A",
                     "Analyse the photo and apply the proposed restorations", section="Edit")
    A["render"] = _act(win, "Render preview now", win.render_preview, "Ctrl+R", section="Edit")
    A["cancel"] = _act(win, "Cancel running job", win.job_bar.cancel_current, "Esc", section="Edit")

    modes = QActionGroup(win)
    mode_list = (("split", "Split view", "S"), ("side", "Side by side", "D"),
                 ("after", "After only", "A"), ("before", "Before only", "B"))
    for i, (mode, text, key) in enumerate(mode_list, start=1):
        a = _act(win, text, lambda _=False, m=mode: v.set_mode(m), [key, f"Ctrl+{i}"], checkable=True,
                 section="View")
        a.setChecked(mode == v.mode)
        modes.addAction(a)
        A[f"mode_{mode}"] = a
    v.mode_changed.connect(lambda m: A[f"mode_{m}"].setChecked(True))
    A["fit"] = _act(win, "Fit to window", v.fit, ["F", "Ctrl+0"], section="View")
    A["actual"] = _act(win, "Actual pixels (100 %)", v.actual_size, ["1", "Ctrl+Alt+0"], section="View")
    A["zoom_in"] = _act(win, "Zoom in", lambda: v.zoom_by(1.25), ["Ctrl++", "+", "="], section="View")
    A["zoom_out"] = _act(win, "Zoom out", lambda: v.zoom_by(0.8), ["Ctrl+-", "-"], section="View")
    A["loupe"] = _act(win, "Loupe", v.set_loupe, "L",
                     "Magnifier following the cursor: 1:1, or 2× the view's zoom past 100 %", checkable=True,
                     section="View")
    SHORTCUTS.append(("View", "\\ (hold)", "Show the original while held"))
    SHORTCUTS.append(("View", "Wheel / drag", "Zoom around the cursor / pan; drag the divider to compare"))
    A["shortcuts"] = _act(win, "Keyboard shortcuts", win.show_shortcuts, "F1")
    A["about"] = _act(win, "About PhotoRestore", win.show_about)

    mb = win.menuBar()
    m = mb.addMenu("&File")
    m.addActions([A["open"]])
    win.recent_menu = QMenu("Open &Recent", win)
    m.addMenu(win.recent_menu)
    m.addActions([A["next"], A["prev"]])
    m.addSeparator()
    m.addActions([A["export"], A["batch"]])
    m.addSeparator()
    m.addActions([A["save_recipe"], A["load_recipe"]])
    m.addSeparator()
    m.addAction(A["quit"])
    m = mb.addMenu("&Edit")
    m.addActions([A["undo"], A["redo"]])
    m.addSeparator()
    m.addActions([A["auto"], A["live"], A["render"], A["cancel"]])
    m = mb.addMenu("&View")
    m.addActions([A[f"mode_{k}"] for k in ("split", "side", "after", "before")])
    m.addSeparator()
    m.addActions([A["fit"], A["actual"], A["zoom_in"], A["zoom_out"], A["loupe"]])
    win.view_menu = m.addMenu("Panels")
    m = mb.addMenu("&Help")
    m.addActions([A["shortcuts"], A["about"]])

    tb = QToolBar("Main", win)
    tb.setObjectName("mainToolbar")
    tb.setIconSize(QSize(18, 18))
    tb.setMovable(False)
    tb.addActions([A["open"], A["export"]])
    tb.addSeparator()
    tb.addActions([A[f"mode_{k}"] for k in ("split", "side", "after", "before")])
    tb.addSeparator()
    tb.addActions([A["fit"], A["actual"], A["loupe"]])
    tb.addSeparator()
    hold = QToolButton()
    hold.setText("Hold for original")
    hold.setObjectName("holdOriginal")
    hold.setToolTip("Press and hold (or hold the \\ key) to see the unprocessed photo")
    hold.pressed.connect(lambda: v.hold_original(True))
    hold.released.connect(lambda: v.hold_original(False))
    tb.addWidget(hold)
    tb.addSeparator()
    tb.addActions(_fixed_undo_redo(win))
    win.addToolBar(tb)
    return A


def _fixed_undo_redo(win: MainWindow) -> list[QAction]:
    """Toolbar undo/redo with constant labels (the menu ones say what they undo, which would make
    the toolbar jump); what they do is in the tooltip."""
    stack = win.model.undo_stack
    out = []
    for text, slot, can, can_changed, text_changed in (
            ("Undo", stack.undo, stack.canUndo, stack.canUndoChanged, stack.undoTextChanged),
            ("Redo", stack.redo, stack.canRedo, stack.canRedoChanged, stack.redoTextChanged)):
        a = QAction(text, win)
        a.triggered.connect(slot)
        a.setEnabled(can())
        can_changed.connect(a.setEnabled)
        text_changed.connect(lambda t, a=a, text=text: a.setToolTip(f"{text} {t}" if t else text))
        out.append(a)
    return out
