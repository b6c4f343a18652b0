"""One op in the ops panel: on/off, its parameters, its cost, reorder and reset buttons.

Ops that cannot run (a model missing or untrained) are shown disabled *with the reason*;
nothing pretends to work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.ops import Op, param_specs
from app.core.ops.choices import plain_unavailable_reason, unavailable_choices
from app.core.pipeline import Step
from app.gui.panels.param_controls import ChoiceControl, ParamControl, make_control


def cost_text(op: Op, full_mp: float | None, preview_mp: float | None, params: object = None,
              device: str = "auto") -> str:
    """"measured 4.0 s/MP · ≈ 96 s full size · 800 ms preview" (or "estimated ..." before this machine
    has run the op; see :mod:`app.core.pipeline.costs`)."""
    from app.core.pipeline.costs import op_cost

    cost = op_cost(op, params if params is not None else op.Params(), device)
    if cost is None:
        return "cost unknown"
    rate = cost.s_per_mp
    parts = [f"{cost.source} {rate:.0f} s/MP" if rate >= 10 else f"{cost.source} {rate:.2g} s/MP"]
    if full_mp:
        total = rate * full_mp
        parts.append(f"≈ {total:.0f} s full size" if total >= 10 else f"≈ {total:.1f} s full size")
    if preview_mp:
        parts.append(f"{rate * preview_mp * 1000:.0f} ms preview")
    return " · ".join(parts)


class OpCard(QFrame):
    """Controls of one op.

    Signals:
        param_changed(str, str, object): (op id, param name, value).
        enabled_changed(str, bool)
        move_requested(str, int): (op id, -1 up / +1 down).
        reset_requested(str)
    """

    param_changed = Signal(str, str, object)
    gesture_started = Signal(str)  # undo text: a slider drag began (one undo step until gesture_finished)
    gesture_finished = Signal()
    enabled_changed = Signal(str, bool)
    move_requested = Signal(str, int)
    reset_requested = Signal(str)

    def __init__(self, op: Op, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.op = op
        self.setObjectName("opCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)

        head = QHBoxLayout()
        self.check = QCheckBox(op.label)
        self.check.setObjectName("opEnable")
        self.check.setToolTip(op.description)
        self.check.toggled.connect(lambda on: self.enabled_changed.emit(op.id, bool(on)))
        head.addWidget(self.check, 1)
        for text, tip, delta in (("▲", "Move up (runs earlier)", -1), ("▼", "Move down (runs later)", 1)):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(lambda _=False, d=delta: self.move_requested.emit(op.id, d))
            head.addWidget(b)
            if delta < 0:
                self.up_button = b
            else:
                self.down_button = b
        reset = QToolButton()
        reset.setText("↺")
        reset.setToolTip("Reset parameters to defaults")
        reset.setAutoRaise(True)
        reset.clicked.connect(lambda: self.reset_requested.emit(op.id))
        head.addWidget(reset)
        lay.addLayout(head)

        self.cost = QLabel(cost_text(op, None, None))
        self.cost.setObjectName("opCost")
        lay.addWidget(self.cost)
        self.reason = QLabel()
        self.reason.setObjectName("opUnavailable")
        self.reason.setWordWrap(True)
        self.reason.hide()
        lay.addWidget(self.reason)

        self.body = QWidget()
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 2, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.advanced = QWidget()
        adv_form = QFormLayout(self.advanced)
        adv_form.setContentsMargins(0, 0, 0, 0)
        self.controls: dict[str, ParamControl] = {}
        for spec in param_specs(op.Params):
            ctl = make_control(spec)
            ctl.value_changed.connect(lambda v, n=spec.name: self.param_changed.emit(op.id, n, v))
            ctl.gesture_started.connect(lambda n=spec.label: self.gesture_started.emit(f"Change {op.label}: {n}"))
            ctl.gesture_finished.connect(self.gesture_finished)
            self.controls[spec.name] = ctl
            label = QLabel(spec.label)
            label.setToolTip(spec.help)
            (adv_form if spec.advanced else form).addRow(label, ctl)
        if adv_form.rowCount():
            self.adv_toggle = QToolButton()
            self.adv_toggle.setText("Advanced ▸")
            self.adv_toggle.setCheckable(True)
            self.adv_toggle.setAutoRaise(True)
            self.adv_toggle.toggled.connect(self._show_advanced)
            form.addRow(self.adv_toggle)
            form.addRow(self.advanced)
        self.advanced.hide()
        lay.addWidget(self.body)
        self.deblur_info = None
        if op.id in ("shake", "defocus"):  # what the op found: kernel image, radius, region picker
            from app.gui.panels.deblur_info import DeblurInfo

            self.deblur_info = DeblurInfo(op.id)
            self.deblur_info.region_picked.connect(lambda text: self.param_changed.emit(op.id, "region", text))
            lay.addWidget(self.deblur_info)
        self.refresh_availability()

    def show_result(self, extra: dict, image: Any = None) -> None:
        """A rendered preview's ``meta.extra``: cards that report findings (shake, defocus) show them."""
        if self.deblur_info is not None:
            self.deblur_info.show_result(extra.get(self.op.id, {}), image)

    def _show_advanced(self, on: bool) -> None:
        self.advanced.setVisible(on)
        self.adv_toggle.setText("Advanced ▾" if on else "Advanced ▸")

    def refresh_availability(self, params: Any | None = None) -> bool:
        """Ask the op whether it can run; show why not. Returns availability."""
        try:
            ok, why = self.op.availability(params)
            body_ok = self._refine_availability(params, ok)
        except Exception as exc:  # noqa: BLE001 - a broken op must not break the panel
            ok, why, body_ok = False, str(exc), False
        self._choice_availability(params)
        self.check.setEnabled(ok or self.check.isChecked())
        self.body.setEnabled(body_ok)
        # Usable with a reason = one route cannot run (e.g. denoise's sRGB model is corrupt): say so too.
        self.reason.setVisible(bool(why) or not ok)
        plain = None if ok else self._plain_reason(params)
        # Plain words on the card ("not trained yet"); the registry's full message in the tooltip.
        self.reason.setText(f"Unavailable: {plain or why}" if not ok else f"Partly available: {why}" if why else "")
        self.reason.setToolTip(why)
        self._set_state("unavailable", not ok)
        return ok

    def _plain_reason(self, params: Any | None) -> str | None:
        try:
            return plain_unavailable_reason(self.op, params)
        except Exception:  # noqa: BLE001 - a broken op must not break the panel
            return None

    def _choice_availability(self, params: Any | None) -> None:
        """Grey out combo entries whose model cannot run ("full — not trained yet")."""
        try:
            reasons = unavailable_choices(self.op, params)
        except Exception:  # noqa: BLE001 - a broken op must not break the panel
            reasons = {}
        for name, ctl in self.controls.items():
            if isinstance(ctl, ChoiceControl):
                ctl.set_unavailable(reasons.get(name, {}))

    def _refine_availability(self, params: Any | None, ok: bool) -> bool:
        """Grey out a ``refine`` switch whose refiner is not trained (it can always be turned off), and keep
        the parameters editable when only the refiner is missing. Returns whether the body stays enabled."""
        ctl = self.controls.get("refine")
        if ctl is None:
            return ok
        p = params if params is not None else self.op.Params()
        r_ok, r_why = self.op.availability(dataclasses.replace(p, refine=True))
        ctl.setEnabled(r_ok or p.refine)
        ctl.setToolTip("" if r_ok else f"Unavailable: {r_why}")
        return ok or (p.refine and self.op.availability(dataclasses.replace(p, refine=False))[0])

    def _set_state(self, name: str, value: bool) -> None:
        """Set a style property; re-polish (costly) only when it actually changes."""
        if self.property(name) != value:
            self.setProperty(name, value)
            self.style().unpolish(self)
            self.style().polish(self)

    def set_megapixels(self, full_mp: float | None, preview_mp: float | None) -> None:
        self._mp = (full_mp, preview_mp)
        self.refresh_cost()

    def refresh_cost(self, device: str | None = None) -> None:
        """Re-read the cost book (after a render measured something, or the params/device changed)."""
        if device is not None:
            self._device = device
        full_mp, preview_mp = getattr(self, "_mp", (None, None))
        self.cost.setText(cost_text(self.op, full_mp, preview_mp, getattr(self, "_params", None),
                                    getattr(self, "_device", "auto")))

    def update_from(self, step: Step) -> None:
        """Show ``step``'s state without emitting change signals."""
        self._params = step.params
        self.check.blockSignals(True)
        self.check.setChecked(step.enabled)
        self.check.blockSignals(False)
        for name, ctl in self.controls.items():
            ctl.set_value(getattr(step.params, name))
        self.body.setVisible(step.enabled)
        self._set_state("active", step.enabled)
        self.refresh_availability(step.params)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), 300))
        return hint

