"""Registry of training tasks: a config's ``task`` -> :class:`~app.train.tasks.base.Task`.

An explicit list (no folder scan), imported lazily so a task whose network family is not written yet
does not break the others.
"""

from __future__ import annotations

import importlib

from app.train.tasks.base import Task

#: task name -> module defining ``TASK``.
TASKS: dict[str, str] = {
    "tiny_test": "app.train.tasks.tiny_test",
    "denoise_srgb": "app.train.tasks.denoise_srgb",
    "deblur": "app.train.tasks.deblur",
    "kind_decompose": "app.train.tasks.kind_decompose",
    "kind_restore": "app.train.tasks.kind_restore",
    "kind_adjust": "app.train.tasks.kind_adjust",
    "denoise_raw": "app.train.tasks.denoise_raw",
    "refine": "app.train.tasks.refine",
    "isp": "app.train.tasks.isp",
    "dejpeg": "app.train.tasks.dejpeg",
}


def get_task(name: str) -> Task:
    """The task called ``name``.

    Raises:
        KeyError: unknown task.
        ImportError: the task's model family or degradations are not available.
    """
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return importlib.import_module(TASKS[name]).TASK


__all__ = ["TASKS", "Task", "get_task"]
