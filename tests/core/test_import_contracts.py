"""The layering map of docs/architecture.md, enforced: import-linter's contracts in pyproject.toml.

``app.core`` never imports the GUI, training code or Qt; ``app.core.nets`` knows nothing of ops, files,
models or inference plumbing; the GUI never imports training code; and no sibling modules or packages
import each other in a cycle (the old infer device/memory/tiling, MainWindow and train loader cycles).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("importlinter")


def _lint(repo_dir, config=None):
    args = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache"]
    if config:
        args += ["--config", str(config)]
    return subprocess.run(args, cwd=repo_dir, capture_output=True, text=True, timeout=240)


def test_import_contracts_are_kept(repo_dir):
    out = _lint(repo_dir)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and "kept" in out.stdout


def test_contracts_catch_a_violation(repo_dir, tmp_path):
    # A contract that the code breaks on purpose (core does import numpy) must be reported as broken,
    # so a passing run above means the contracts were really checked.
    cfg = tmp_path / "contracts.toml"
    cfg.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "app"
        include_external_packages = true
        [[tool.importlinter.contracts]]
        name = "canary"
        type = "forbidden"
        source_modules = ["app.core.color"]
        forbidden_modules = ["numpy"]
    """))
    out = _lint(repo_dir, cfg)
    assert out.returncode != 0 and "canary BROKEN" in out.stdout, out.stdout[-2000:]
