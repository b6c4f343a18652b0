"""Editors for one op parameter, built from its :class:`~app.core.ops.base.ParamSpec`.

Numbers with a range get a slider plus a spin box, booleans a check box, strings with choices a
combo box (model choice "fast"/"full" is just such a parameter). Every editor emits
``value_changed(object)`` with a value of the field's type and has ``set_value`` that updates it
without emitting (used on undo/redo and recipe loads).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSlider,
    QSpinBox,
    QWidget,
)

from app.core.ops.base import ParamSpec


class ParamControl(QWidget):
    """Base: ``value_changed(object)`` and ``set_value``."""

    value_changed = Signal(object)
    #: a slider drag began / ended (its value changes in between are one undo step)
    gesture_started = Signal()
    gesture_finished = Signal()

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setToolTip(spec.help)
        self.setObjectName(f"param_{spec.name}")

    def value(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_value(self, value: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class NumberControl(ParamControl):
    """Slider + spin box for an int or float with a range (spin box only without one)."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.is_int = spec.type is int
        lo = spec.min if spec.min is not None else -1e6
        hi = spec.max if spec.max is not None else 1e6
        span = hi - lo
        step = spec.step or (1 if self.is_int else (span / 200 if span < 1e5 else 0.1))
        self.lo, self.step = lo, step
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.slider: QSlider | None = None
        if spec.min is not None and spec.max is not None:
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, max(1, round(span / step)))
            self.slider.setSingleStep(1)
            self.slider.setPageStep(max(1, round(span / step / 10)))
            self.slider.valueChanged.connect(self._slider_moved)
            self.slider.sliderPressed.connect(self.gesture_started)
            self.slider.sliderReleased.connect(self.gesture_finished)
            lay.addWidget(self.slider, 1)
        if self.is_int:
            self.spin: QSpinBox | QDoubleSpinBox = QSpinBox()
            self.spin.setRange(int(lo), int(hi))
            self.spin.setSingleStep(int(step))
        else:
            self.spin = QDoubleSpinBox()
            decimals = max(0, min(4, -math.floor(math.log10(step)) if step > 0 else 2))
            self.spin.setDecimals(decimals)
            self.spin.setRange(lo, hi)
            self.spin.setSingleStep(step)
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(64)
        self.spin.valueChanged.connect(self._spin_changed)
        lay.addWidget(self.spin)
        self.set_value(spec.default)

    def value(self) -> Any:
        v = self.spin.value()
        return int(v) if self.is_int else float(round(v, 6))

    def set_value(self, value: Any) -> None:
        for w in (self.slider, self.spin):
            if w is not None:
                w.blockSignals(True)
        self.spin.setValue(value)
        if self.slider is not None:
            self.slider.setValue(round((float(value) - self.lo) / self.step))
        for w in (self.slider, self.spin):
            if w is not None:
                w.blockSignals(False)

    def _slider_moved(self, pos: int) -> None:
        value = self.lo + pos * self.step
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.value_changed.emit(self.value())

    def _spin_changed(self, value: float) -> None:
        if self.slider is not None:
            self.slider.blockSignals(True)
            self.slider.setValue(round((value - self.lo) / self.step))
            self.slider.blockSignals(False)
        self.value_changed.emit(self.value())


class BoolControl(ParamControl):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.box = QCheckBox()
        self.box.toggled.connect(lambda on: self.value_changed.emit(bool(on)))
        lay.addWidget(self.box)
        lay.addStretch(1)
        self.set_value(spec.default)

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceControl(ParamControl):
    """Combo box; a choice that cannot run (an untrained model) stays listed, disabled, with the reason."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        for choice in spec.choices:
            self.combo.addItem(str(choice), str(choice))  # data = the value; the text may get a reason
        self.combo.currentIndexChanged.connect(lambda _i: self.value_changed.emit(self.value()))
        lay.addWidget(self.combo, 1)
        self.unavailable: dict[str, str] = {}
        self.set_value(spec.default)

    def value(self) -> str:
        return str(self.combo.currentData())

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(str(value))))
        self.combo.blockSignals(False)

    def set_unavailable(self, reasons: dict[str, str]) -> None:
        """Disable the choices in ``reasons`` ({choice: plain reason}) and say why; re-enable the others."""
        if reasons == self.unavailable:
            return
        self.unavailable = dict(reasons)
        model = self.combo.model()
        for i in range(self.combo.count()):
            choice = str(self.combo.itemData(i))
            why = reasons.get(choice)
            self.combo.setItemText(i, f"{choice} — {why}" if why else choice)
            self.combo.setItemData(i, f"{choice}: {why}" if why else None, Qt.ItemDataRole.ToolTipRole)
            item = model.item(i) if hasattr(model, "item") else None
            if item is not None:
                item.setEnabled(why is None)


class TextControl(ParamControl):
    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(lambda: self.value_changed.emit(self.edit.text()))
        lay.addWidget(self.edit, 1)
        self.set_value(spec.default)

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, value: Any) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(str(value))
        self.edit.blockSignals(False)


def make_control(spec: ParamSpec, parent: QWidget | None = None) -> ParamControl:
    """The editor that suits ``spec``."""
    if spec.type is bool:
        return BoolControl(spec, parent)
    if spec.type in (int, float):
        return NumberControl(spec, parent)
    if spec.choices:
        return ChoiceControl(spec, parent)
    return TextControl(spec, parent)
