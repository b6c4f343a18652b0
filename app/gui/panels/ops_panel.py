"""The restorations panel: device, recipes/presets, the prominent slider, and one card per op.

Cards are built from each op's ``Params`` metadata; every edit goes through the
:class:`~app.gui.edit_model.EditModel` (undoable) and the panel redraws from the model, so
undo/redo, recipe loads and reorders all show up the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.ops import Op, get_op, param_specs
from app.core.pipeline import Recipe, RecipeError
from app.gui.edit_model import EditModel
from app.gui.panels.op_card import OpCard
from app.gui.panels.param_controls import NumberControl
from app.gui.presets import Presets

log = logging.getLogger("photorestore")

#: (text, "device" or "device/backend"): the CPU entries also pick the inference runtime (app/core/infer/backends.py;
#: plain "CPU" = the fastest installed one). GPUs always run torch.
DEVICE_ITEMS = (("Auto", "auto"), ("CPU", "cpu"), ("CPU · OpenVINO", "cpu/openvino"),
                ("CPU · ONNX Runtime", "cpu/onnxruntime"), ("CPU · PyTorch", "cpu/torch"),
                ("GPU (CUDA)", "cuda"), ("GPU (Apple MPS)", "mps"))
#: ops whose one parameter deserves a big slider at the top of the panel.
PROMINENT = {"lowlight": "ratio"}


def prominent_param(op: Op) -> str | None:
    return getattr(op, "prominent_param", None) or PROMINENT.get(op.id)


class DeviceCombo(QComboBox):
    """Device choice; tells the window the first time it opens so GPUs are probed only on demand
    (probing imports torch, which takes seconds)."""

    about_to_show = Signal()

    def showPopup(self) -> None:  # noqa: N802 - Qt API
        self.about_to_show.emit()
        super().showPopup()


class OpsPanel(QWidget):
    """Signals:
    device_changed(str): "auto", "cpu", "cuda" or "mps", or "cpu/<backend>" (see :data:`DEVICE_ITEMS`).
    device_probe_requested(): the device list is about to be shown.
    auto_requested(): the user wants a recipe proposed from the photo's analysis.
    message(str): a line for the status bar / error banner.
    """

    device_changed = Signal(str)
    device_probe_requested = Signal()
    auto_requested = Signal()
    message = Signal(str)

    def __init__(self, model: EditModel, presets: Presets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.presets = presets
        self.last_folder = str(Path.home())
        self.cards: dict[str, OpCard] = {}
        #: values an op chose itself in the last render (lowlight's automatic ratio), by op id
        self._used: dict[str, dict[str, Any]] = {}
        self._mp: tuple[float | None, float | None] = (None, None)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        row = QHBoxLayout()
        row.addWidget(QLabel("Device"))
        self.device = DeviceCombo()
        self.device.setObjectName("deviceCombo")
        self.device.setToolTip("Where model ops run; Auto picks a GPU when there is one")
        self.device.about_to_show.connect(lambda: self.device_probe_requested.emit())
        for text, value in DEVICE_ITEMS:
            self.device.addItem(text, value)
        self.device.currentIndexChanged.connect(lambda _: self.device_changed.emit(self.device_value()))
        row.addWidget(self.device, 1)
        lay.addLayout(row)

        rec = QHBoxLayout()
        self.auto_button = QPushButton("Auto")
        self.auto_button.setObjectName("autoButton")
        self.auto_button.setToolTip("Analyse the photo (noise, blur, exposure) and propose a recipe")
        self.auto_button.clicked.connect(self.auto_requested.emit)
        rec.addWidget(self.auto_button)
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setToolTip("Saved presets (recipes)")
        rec.addWidget(self.preset_combo, 1)
        for text, tip, slot in (("Apply", "Apply the chosen preset", self.apply_preset),
                                ("Save…", "Save the recipe as a preset or a JSON file", self.save_recipe),
                                ("Load…", "Load a recipe JSON file", self.load_recipe)):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            rec.addWidget(b)
        lay.addLayout(rec)

        self.prominent_box = QGroupBox()
        self.prominent_box.setObjectName("prominentBox")
        pl = QVBoxLayout(self.prominent_box)
        self.prominent_label = QLabel()
        self.prominent_label.setObjectName("prominentLabel")
        pl.addWidget(self.prominent_label)
        self.prominent_host = QVBoxLayout()
        pl.addLayout(self.prominent_host)
        self.prominent: NumberControl | None = None
        self.prominent_op: str | None = None
        lay.addWidget(self.prominent_box)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.list_host = QWidget()
        self.list_layout = QVBoxLayout(self.list_host)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(6)
        self.scroll.setWidget(self.list_host)
        lay.addWidget(self.scroll, 1)

        model.changed.connect(self._model_changed)
        self.refresh_presets()
        self.rebuild()

    # -- building -----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Recreate the cards (ops registered or removed) and the prominent slider."""
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards.clear()
        while self.list_layout.count():
            self.list_layout.takeAt(0)
        for step in self.model.steps:
            card = OpCard(get_op(step.op_id))
            card.param_changed.connect(self._param_edited)
            card.gesture_started.connect(self.model.begin_gesture)
            card.gesture_finished.connect(self.model.end_gesture)
            card.enabled_changed.connect(self.model.set_enabled)
            card.move_requested.connect(self.model.move)
            card.reset_requested.connect(self.model.reset_op)
            card.set_megapixels(*self._mp)
            self.cards[step.op_id] = card
        self._relayout()
        self._build_prominent()

    def show_results(self, extra: dict, image=None) -> None:
        """Pass a rendered preview's findings (``meta.extra``) and the picture itself to the cards."""
        for card in self.cards.values():
            card.show_result(extra, image)
        self.show_used_values(extra)  # e.g. lowlight's automatic ratio, on the slider and the card

    def _relayout(self) -> None:
        while self.list_layout.count():
            self.list_layout.takeAt(0)
        for step in self.model.steps:
            self.list_layout.addWidget(self.cards[step.op_id])
            self.cards[step.op_id].update_from(step)
            self._show_used_on_card(step.op_id)
        self.list_layout.addStretch(1)

    def _build_prominent(self) -> None:
        if self.prominent is not None:
            self.prominent.setParent(None)
            self.prominent.deleteLater()
            self.prominent, self.prominent_op = None, None
        for step in self.model.steps:
            op = get_op(step.op_id)
            name = prominent_param(op)
            if name is None:
                continue
            spec = next(s for s in param_specs(op.Params) if s.name == name)
            self.prominent = NumberControl(spec)
            self.prominent.setObjectName("prominentSlider")
            self.prominent.value_changed.connect(lambda v, i=op.id, n=name: self._prominent_moved(i, n, v))
            self.prominent.gesture_started.connect(
                lambda lbl=f"Change {op.label}: {spec.label}": self.model.begin_gesture(lbl))
            self.prominent.gesture_finished.connect(self.model.end_gesture)
            self.prominent_host.addWidget(self.prominent)
            self.prominent_op = op.id
            self.prominent_box.setTitle(op.label)
            break
        self.prominent_box.setVisible(self.prominent is not None)
        self._update_prominent()

    def _update_prominent(self) -> None:
        if self.prominent is None or self.prominent_op is None:
            return
        step = self.model.step(self.prominent_op)
        name = self.prominent.spec.name
        value = getattr(step.params, name)
        auto = getattr(step.params, f"auto_{name}", False) is True  # the op picks the value per photo
        used = self._used_value(step, name) if auto else None
        # While automatic, the slider sits at the value in use, so moving it starts from the picture shown.
        self.prominent.set_value(value if used is None else used)
        shown = f"×{value:g}" if not auto else "automatic" if used is None else f"automatic ×{used:.2f}"
        self.prominent_label.setText(f"{self.prominent.spec.label}: {shown}" + ("" if step.enabled else " (off)"))
        # The explanations live in the tooltip: the label must fit a narrow panel.
        self.prominent_label.setToolTip(" ".join(filter(None, (
            "Chosen per photo; move the slider to set it." if auto else "",
            "" if step.enabled else "Moving the slider turns the op on."))))
        ok, why = self.cards[self.prominent_op].op.availability(step.params)
        self.prominent.setEnabled(ok)
        if not ok:
            self.prominent_label.setText(f"{self.prominent.spec.label} — unavailable: {why}")

    def _used_value(self, step: Any, name: str) -> float | None:
        value = self._used.get(step.op_id, {}).get(name)
        return None if value is None or not step.enabled else float(value)

    def show_used_values(self, extra: dict[str, Any]) -> None:
        """Take what the ops reported in a render's ``meta.extra`` (``{"lowlight": {"ratio": r, "auto": True}}``)
        and show the automatic values in use on the prominent slider and the cards."""
        for op_id in self.cards:
            info = extra.get(op_id)
            if isinstance(info, dict) and info.get("auto"):
                self._used[op_id] = info
            else:
                self._used.pop(op_id, None)
            self._show_used_on_card(op_id)
        self._update_prominent()

    def _show_used_on_card(self, op_id: str) -> None:
        step = self.model.step(op_id)
        for name, ctl in self.cards[op_id].controls.items():
            if getattr(step.params, f"auto_{name}", False) is True:
                used = self._used_value(step, name)
                ctl.set_value(getattr(step.params, name) if used is None else used)

    # -- model <-> widgets ---------------------------------------------------------------------------
    def _param_edited(self, op_id: str, name: str, value: Any) -> None:
        self._manual(op_id, name)
        self.model.set_param(op_id, name, value)

    def _prominent_moved(self, op_id: str, name: str, value: Any) -> None:
        if not self.model.step(op_id).enabled:
            self.model.set_enabled(op_id, True)
        self._manual(op_id, name)
        self.model.set_param(op_id, name, value)

    def _manual(self, op_id: str, name: str) -> None:
        """A param with an ``auto_<name>`` switch (lowlight's ratio) stops being automatic once the user
        sets it, or the slider would move without changing the picture."""
        if getattr(self.model.step(op_id).params, f"auto_{name}", False) is True:
            self.model.set_param(op_id, f"auto_{name}", False)

    def _model_changed(self, op_id: str, what: str) -> None:
        if what == "all" and set(self.cards) != {s.op_id for s in self.model.steps}:
            self.rebuild()
            return
        if what in ("order", "all"):
            self._relayout()
        elif op_id in self.cards:
            self.cards[op_id].update_from(self.model.step(op_id))
            self._show_used_on_card(op_id)
        self._update_prominent()

    def refresh_costs(self) -> None:
        """Cards re-read the measured costs (called after each render: it may have measured an op)."""
        for card in self.cards.values():
            card.refresh_cost(self.device_value())

    def set_megapixels(self, full_mp: float | None, preview_mp: float | None) -> None:
        self._mp = (full_mp, preview_mp)
        for card in self.cards.values():
            card.set_megapixels(full_mp, preview_mp)

    def device_value(self) -> str:
        """The device part of the choice ("cpu" for every CPU runtime)."""
        return str(self.device.currentData()).split("/")[0]

    def backend_value(self) -> str:
        """The runtime part of the choice ("auto" unless a CPU runtime was picked)."""
        value = str(self.device.currentData())
        return value.split("/", 1)[1] if "/" in value else "auto"

    def set_device(self, value: str, backend: str = "auto") -> None:
        i = self.device.findData(value if backend == "auto" else f"{value}/{backend}")
        self.device.setCurrentIndex(max(0, i))

    def set_device_available(self, value: str, ok: bool) -> None:
        """Grey out a device (or CPU runtime) this machine does not have (checked in the background)."""
        i = self.device.findData(value)
        if i >= 0:
            item = self.device.model().item(i)
            item.setEnabled(ok)
            if not ok:
                self.device.setItemText(i, f"{DEVICE_ITEMS[i][0]} — not available")

    # -- recipes and presets -------------------------------------------------------------------------
    def refresh_presets(self) -> None:
        self.preset_combo.clear()
        names = self.presets.names()
        self.preset_combo.addItems(names or ["(no presets yet)"])
        self.preset_combo.setEnabled(bool(names))

    def apply_preset(self) -> None:
        name = self.preset_combo.currentText()
        if not self.presets.names():
            return
        try:
            self.model.apply_recipe(self.presets.load(name), f"Apply preset {name}")
            self.message.emit(f"Applied preset “{name}”.")
        except RecipeError as exc:
            self.message.emit(f"Preset “{name}”: {exc}")

    def save_recipe(self) -> None:
        name, ok = QInputDialog.getText(self, "Save recipe", "Preset name (or leave empty to save a file):")
        if not ok:
            return
        recipe = self.model.recipe(name.strip())
        if name.strip():
            self.presets.save(name.strip(), recipe)
            self.refresh_presets()
            self.preset_combo.setCurrentText(name.strip())
            self.message.emit(f"Saved preset “{name.strip()}”.")
            return
        default = str(Path(self.last_folder) / "recipe.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save recipe", default, "Recipes (*.json)")
        if path:
            recipe.save(path)
            self.message.emit(f"Saved recipe {Path(path).name}.")

    def load_recipe(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Load recipe", self.last_folder, "Recipes (*.json)")
        if not path:
            return
        try:
            self.model.apply_recipe(Recipe.load(path), f"Load recipe {Path(path).name}")
            self.message.emit(f"Loaded recipe {Path(path).name}.")
        except RecipeError as exc:
            self.message.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a slot must never raise: Qt would only print a traceback
            log.exception("loading recipe %s", path)
            self.message.emit(f"{Path(path).name}: cannot load recipe ({type(exc).__name__})")
