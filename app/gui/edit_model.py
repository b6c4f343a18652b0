"""The photo's edit recipe as the GUI sees it, and the undoable commands that change it.

The model holds one :class:`~app.core.pipeline.Step` per user-facing op, in the user's order,
enabled or not; the pipeline receives the enabled ones. Every change goes through a
``QUndoCommand`` on the model's ``QUndoStack``, so undo/redo is exact, and consecutive moves of
one slider merge into a single undo step.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from app.core.ops import all_ops, get_op
from app.core.pipeline import Recipe, Step

_MERGE_WINDOW_S = 1.5


class EditModel(QObject):
    """Ordered steps (one per op) plus an undo stack.

    Signals:
        changed(str, str): (op id or "", what) with what in "param", "enabled", "order", "all".
    """

    changed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.steps: list[Step] = []
        self._gesture: str | None = None  # text of the open gesture's undo step
        self._macro_open = False
        self.sync_ops()

    # -- reading --------------------------------------------------------------------------------
    def step(self, op_id: str) -> Step:
        for s in self.steps:
            if s.op_id == op_id:
                return s
        raise KeyError(op_id)

    def index(self, op_id: str) -> int:
        return [s.op_id for s in self.steps].index(op_id)

    def active_steps(self) -> list[Step]:
        """Enabled steps in order: what the pipeline runs."""
        return [s for s in self.steps if s.enabled]

    def recipe(self, name: str = "") -> Recipe:
        return Recipe(self.active_steps(), name)

    # -- gestures: one undo step per slider drag ----------------------------------------------------
    def begin_gesture(self, text: str) -> None:
        """Everything changed until :meth:`end_gesture` (a slider drag: turning the op on, leaving its
        automatic value, every position) becomes one undo step named ``text``. The macro opens at the
        first change, so a press that changes nothing leaves no empty step."""
        self.end_gesture()
        self._gesture = text

    def end_gesture(self) -> None:
        if self._macro_open:
            self.undo_stack.endMacro()
        self._gesture, self._macro_open = None, False

    def _push(self, command: QUndoCommand) -> None:
        if self._gesture is not None and not self._macro_open:
            self.undo_stack.beginMacro(self._gesture)
            self._macro_open = True
        self.undo_stack.push(command)

    # -- changing (undoable) ----------------------------------------------------------------------
    def set_param(self, op_id: str, name: str, value: Any) -> None:
        old = getattr(self.step(op_id).params, name)
        if old == value:
            return
        self._push(_SetParam(self, op_id, name, old, value))

    def set_enabled(self, op_id: str, enabled: bool) -> None:
        if self.step(op_id).enabled == bool(enabled):
            return
        label = get_op(op_id).label
        self._push(_Apply(self, f"{'Enable' if enabled else 'Disable'} {label}",
                                    _with_step(self.steps, op_id, enabled=bool(enabled)), op_id, "enabled"))

    def move(self, op_id: str, delta: int) -> None:
        i = self.index(op_id)
        j = max(0, min(len(self.steps) - 1, i + delta))
        if i == j:
            return
        new = list(self.steps)
        new.insert(j, new.pop(i))
        self._push(_Apply(self, f"Move {get_op(op_id).label}", new, op_id, "order"))

    def reset_op(self, op_id: str) -> None:
        new = _with_step(self.steps, op_id, params=get_op(op_id).default_params())
        if new != self.steps:
            self._push(_Apply(self, f"Reset {get_op(op_id).label}", new, op_id, "param"))

    def apply_recipe(self, recipe: Recipe, text: str = "Apply recipe") -> None:
        """Enable exactly the recipe's steps, in its order, with its params; other ops go after, off."""
        new = [dataclasses.replace(s, enabled=True) for s in recipe.steps if s.enabled]
        named = {s.op_id for s in new}
        new += [dataclasses.replace(s, enabled=False) for s in self.steps if s.op_id not in named]
        self._push(_Apply(self, text, new, "", "all"))

    def load_photo_recipe(self, recipe: Recipe | None) -> None:
        """Start another photo's editing: its own recipe (or every op off, at defaults), a fresh undo
        history. Not undoable: undo never reaches back into the previous photo's edits."""
        new = [dataclasses.replace(s, enabled=True) for s in (recipe.steps if recipe else []) if s.enabled]
        named = {s.op_id for s in new}
        new += [Step(op.id, op.default_params(), False) for op in all_ops() if op.id not in named]
        self.end_gesture()
        self.undo_stack.clear()
        if new != self.steps:
            self._replace(new, "", "all")

    # -- plumbing -------------------------------------------------------------------------------
    def sync_ops(self) -> bool:
        """Match the steps to the registered ops (ops can be registered at run time). Not undoable."""
        ids = [op.id for op in all_ops()]
        kept = [s for s in self.steps if s.op_id in ids]
        have = {s.op_id for s in kept}
        added = [Step(op.id, op.default_params(), False) for op in all_ops() if op.id not in have]
        new = kept + added
        if new == self.steps:
            return False
        self.steps = new
        self.undo_stack.clear()
        self.changed.emit("", "all")
        return True

    def _replace(self, steps: list[Step], op_id: str, what: str) -> None:
        self.steps = list(steps)
        self.changed.emit(op_id, what)


def _with_step(steps: list[Step], op_id: str, **changes: Any) -> list[Step]:
    return [dataclasses.replace(s, **changes) if s.op_id == op_id else s for s in steps]


class _Apply(QUndoCommand):
    """Swap in a whole new step list (enable, reorder, recipe)."""

    def __init__(self, model: EditModel, text: str, new: list[Step], op_id: str, what: str) -> None:
        super().__init__(text)
        self._model, self._old, self._new = model, list(model.steps), list(new)
        self._op_id, self._what = op_id, what

    def redo(self) -> None:
        self._model._replace(self._new, self._op_id, self._what)

    def undo(self) -> None:
        self._model._replace(self._old, self._op_id, self._what)


class _SetParam(QUndoCommand):
    """One parameter change; consecutive changes of the same parameter merge (slider drags)."""

    ID = 0x5E7

    def __init__(self, model: EditModel, op_id: str, name: str, old: Any, new: Any) -> None:
        super().__init__(f"Change {get_op(op_id).label}: {name.replace('_', ' ')}")
        self._model, self._op_id, self._name = model, op_id, name
        self._old, self._new = old, new
        self._when = time.monotonic()

    def id(self) -> int:  # noqa: A003 - Qt API
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if not isinstance(other, _SetParam) or (other._op_id, other._name) != (self._op_id, self._name):
            return False
        if other._when - self._when > _MERGE_WINDOW_S:
            return False
        self._new, self._when = other._new, other._when
        return True

    def _set(self, value: Any) -> None:
        steps = [s.replace(**{self._name: value}) if s.op_id == self._op_id else s for s in self._model.steps]
        self._model._replace(steps, self._op_id, "param")

    def redo(self) -> None:
        self._set(self._new)

    def undo(self) -> None:
        self._set(self._old)
