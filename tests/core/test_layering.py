"""app/core must never import Qt or app.gui: the GUI is a thin client of core."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "app.gui", "superqt", "qtpy")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_never_imports_qt(repo_dir):
    offenders = []
    for path in sorted((repo_dir / "app" / "core").rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.relative_to(repo_dir)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_checker_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject\nimport app.gui.main_window\n")
    assert list(_imports(bad)) == ["PySide6.QtCore", "app.gui.main_window"]


def test_op_availability_checks_do_not_import_torch():
    # The GUI checks every op's availability while building its window; importing torch there took
    # start-up from 0.8 s to 3 s. torch belongs where a network actually runs.
    import subprocess
    import sys

    code = ("import sys\n"
            "from app.core.ops import all_ops\n"
            "from app.core.models.registry import descriptors, model_state\n"
            "[op.availability() for op in all_ops()]\n"
            "[model_state(d.id) for d in descriptors()]\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
