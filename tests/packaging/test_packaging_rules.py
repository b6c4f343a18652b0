"""The bundling rules: what the frozen app contains and leaves out (fast; no PyInstaller run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO  # tests/packaging/conftest.py

SPEC = REPO / "packaging" / "photorestore.spec"


def _app_sources():
    for path in sorted((REPO / "app").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if not rel.startswith("app/train/"):
            yield path


def test_spec_parses_and_uses_the_shared_rules():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "bundle_rules"
    }
    assert {
        "module_excludes",
        "data_files",
        "app_modules",
        "app_version",
        "file_excludes",
        "is_excluded_file",
        "is_unbundled_system_lib",
        "license_datas",
        "extra_binaries",
    } <= calls
    names = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= names


def test_training_tests_and_bench_are_left_out(rules):
    excludes = rules.module_excludes()
    for name in ("app.train", "tests", "bench"):
        assert name in excludes
    modules = rules.app_modules()
    assert "app.cli" in modules and "app.selftest" in modules and "app.core" in modules
    assert not [m for m in modules if m == "app.train" or m.startswith("app.train.")]
    for src, dest in rules.data_files():
        parts = Path(dest).parts
        assert parts[0] in ("resources", "models", "app"), (src, dest)
        assert not {"tests", "bench", "train"} & set(Path(src).relative_to(REPO).parts), src


def test_heavy_unused_modules_are_left_out(rules):
    excludes = set(rules.module_excludes())
    assert {
        "torch._inductor",
        "torch._dynamo",
        "torch.onnx",
        "sympy",
        "caffe2",
        "tensorboard",
        "skimage",
        "matplotlib",
        "PySide6.QtQml",
        "PySide6.QtQuick",
        "PySide6.QtWebEngineCore",
        "PySide6.Qt3DCore",
    } <= excludes
    # What `import torch` itself needs must stay: torch.testing, torchgen, the two torch.testing._internal
    # modules torch imports at start-up.
    for needed in (
        "torch.testing",
        "torchgen",
        "torch.testing._internal",
        "torch.distributed",
        "torch.testing._internal.common_dtype",
        "torch.testing._internal.logging_tensor",
    ):
        assert needed not in excludes


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _function_bodies(tree: ast.AST) -> set[int]:
    """ids of the nodes inside a function: imports there are lazy."""
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(fn) if n is not fn)
    return inside


def test_app_never_uses_a_module_the_bundle_leaves_out(rules):
    """A module the spec excludes would be an ImportError only in the frozen app (and the GUI's quality
    panel would quietly say "not available"): catch it here. Lazy imports of the declared bench/training
    extras are the one exception."""
    excludes = [
        e for e in rules.module_excludes() if not e.startswith(("app.", "tests", "bench", "conftest"))
    ]

    def excluded(name: str, lazy: bool) -> bool:
        if lazy and name.split(".")[0] in rules.EXTRAS_NOT_BUNDLED:
            return False
        return any(name == e or name.startswith(e + ".") for e in excludes)

    problems = []
    for path in _app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lazy_nodes = _function_bodies(tree)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Attribute):
                dotted = _dotted(node)
                if dotted == "torch.compile":  # needs torch._dynamo / torch._inductor
                    names = ["torch._dynamo"]
                elif dotted and dotted.startswith("torch."):
                    names = [dotted]
            lazy = id(node) in lazy_nodes
            problems += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in names if excluded(n, lazy)]
    assert not problems, "app code uses modules packaging/bundle_rules.py leaves out:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("dest", "gpu", "expected"),
    [
        ("torch/test/Dict_test", False, True),
        ("torch/include/ATen/ATen.h", False, True),
        ("torch/bin/protoc", False, True),
        ("torch/bin/torch_shm_manager", False, False),  # `import torch` checks it exists
        ("torch/lib/libtorch_cpu.so", False, False),
        ("torch/lib/libtorch_cuda.so", False, True),
        ("torch/lib/libtorch_cuda.so", True, False),
        ("nvidia/cudnn/lib/libcudnn.so.9", False, True),
        ("PySide6/Qt/translations/qtbase_de.qm", False, True),
        ("PySide6/Qt/qml/QtQuick/Controls/libqtquickcontrols2plugin.so", False, True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False, False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False, False),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False, False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False, True),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", False, False),
        ("PySide6/Qt/lib/libQt6Quick.so.6", False, True),
        ("cv2/data/haarcascade_frontalface_default.xml", False, True),
        ("resources/samples/tiny.png", False, False),
        ("models/manifest.toml", False, False),
    ],
)
def test_file_rules(rules, dest, gpu, expected):
    assert rules.is_excluded_file(dest, rules.file_excludes(gpu=gpu)) is expected


def test_system_libraries_come_from_the_users_system(rules):
    assert rules.is_unbundled_system_lib("libX11.so.6", "/lib/x86_64-linux-gnu/libX11.so.6")
    assert rules.is_unbundled_system_lib("libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6")
    assert rules.is_unbundled_system_lib("libfontconfig.so.1", "/usr/lib/x86_64-linux-gnu/libfontconfig.so.1")
    # A wheel's own renamed copy stays, and so do Python's own libraries.
    assert not rules.is_unbundled_system_lib(
        "opencv_python_headless.libs/libpng16-529cb57a.so.16",
        "/venv/site-packages/opencv_python_headless.libs/x",
    )
    assert not rules.is_unbundled_system_lib(
        "libpython3.11.so.1.0", "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
    )
    assert not rules.is_unbundled_system_lib("libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3")


def test_version_comes_from_the_package(rules):
    import app

    assert rules.app_version() == app.__version__
    spec_text = SPEC.read_text(encoding="utf-8")
    assert "bundle_rules.app_version(" in spec_text and "__version__ =" not in spec_text
    build = (REPO / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert "bundle_rules.app_version()" in build and "--version)" in build


def test_data_files_mirror_the_frozen_lookup_paths(rules, tmp_path):
    (tmp_path / "resources" / "samples").mkdir(parents=True)
    (tmp_path / "resources" / "samples" / "tiny.png").write_bytes(b"x")
    (tmp_path / "resources" / "translations").mkdir()
    (tmp_path / "resources" / "translations" / "app_de.ts").write_text("source, not shipped")
    (tmp_path / "resources" / "translations" / "app_de.qm").write_bytes(b"x")
    (tmp_path / "models").mkdir()
    for name in ("manifest.toml", "kind-0123abcd.safetensors", "kind.md", "kind-epoch3.pt"):
        (tmp_path / "models" / name).write_bytes(b"x")
    for rel in ("app/core/metrics/niqe_params.npz", "app/core/metrics/niqe.py", "app/train/configs/x.toml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    pairs = {(Path(src).relative_to(tmp_path).as_posix(), dest) for src, dest in rules.data_files(tmp_path)}
    assert pairs == {
        ("app/core/metrics/niqe_params.npz", "app/core/metrics"),  # found via Path(__file__).with_name
        ("resources/samples/tiny.png", "resources/samples"),
        ("resources/translations/app_de.qm", "resources/translations"),
        ("models/manifest.toml", "models"),
        ("models/kind-0123abcd.safetensors", "models"),
        ("models/kind.md", "models"),
    }


def test_frozen_lookup_conventions_match_the_app():
    """The bundle puts resources/ and models/ at sys._MEIPASS; the app's helpers must look there."""
    for rel in ("app/selftest.py", "app/gui/resources.py", "app/core/models/manifest.py"):
        path = REPO / rel
        if path.exists():
            assert "_MEIPASS" in path.read_text(encoding="utf-8"), rel


def test_macos_plist_lists_the_raw_extensions(file_types):
    plist = file_types.macos_info_plist("1.2.3")
    assert plist["CFBundleShortVersionString"] == "1.2.3"
    raw = plist["CFBundleDocumentTypes"][0]["CFBundleTypeExtensions"]
    assert {"cr2", "cr3", "nef", "arw", "dng"} <= set(raw)
