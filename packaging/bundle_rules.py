"""What goes into the frozen PhotoRestore bundle, and what is left out.

Kept apart from ``photorestore.spec`` so that ``tests/packaging`` can check the rules without running
PyInstaller, and so that the Linux, Windows and macOS builds share one list. Every rule says why:
a module left out here must never be imported by ``app`` outside ``app.train`` (a test checks it),
and the frozen ``--selftest`` proves the bundle still runs.

Sizes quoted are for torch 2.13.0+cpu / PySide6-Essentials 6.12 on Linux x86-64.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Python modules left out (PyInstaller ``excludes``: the module and all its submodules).
# ---------------------------------------------------------------------------------------------

#: Our own code that is not part of the app.
PROJECT_EXCLUDES = ["app.train", "tests", "bench", "conftest"]

#: (``torchgen``, torch's code generator, looks like a build tool but ``import torch`` imports it.)
#: torch subpackages that eager CPU/GPU inference never imports (checked: ``import torch`` plus
#: a conv-net forward under ``inference_mode`` and safetensors loading import none of them). They are
#: the compiler stack (torch.compile), export/ONNX, distributed training and profiling tools. The
#: torch hook collects *every* submodule as .pyc *and* .py, so this is ~40 MB of Python.
TORCH_EXCLUDES = [
    "torch._inductor",  # torch.compile backend (+ jinja2, sympy)
    "torch._dynamo",  # torch.compile frontend
    "torch._lazy",
    "torch._vendor.quack",
    "torch.onnx",
    "torch.utils.tensorboard",
    "torch.utils.benchmark",
    "torch.utils.bottleneck",
    "torch.utils.hipify",
    "torch.utils.cpp_extension",
    "torch.utils._sympy",
    "torch.utils.model_dump",
    "torch.distributed.fsdp",
    "torch.distributed.tensor",
    "torch.distributed._tensor",
    "torch.distributed.elastic",
    "torch.distributed.checkpoint",
    "torch.distributed.pipelining",
    "torch.distributed._shard",
    "torch.distributed.launcher",
    "torch.distributed.run",
    "torch.distributed.nn",
    "torch.distributed.optim",
    "torch.distributed._composable",
    "torch.ao.pruning",
    "torch.ao.ns",
    "torch._export.serde",
    "torch.distributed.debug",  # a web frontend: pulls in requests, urllib3, cryptography (20 MB)
    "functorch",  # legacy top-level alias package; torch.func is what torch uses
]

#: ``import torch`` imports ``torch.testing._internal`` and these two children of it (torch itself
#: uses them for dtype lists and logging); every other child is torch's test-suite (~5 MB).
TORCH_TESTING_INTERNAL_KEEP = {"common_dtype", "logging_tensor"}

#: Third-party packages pulled in only through the excluded parts (or by nothing at run time).
THIRD_PARTY_EXCLUDES = [
    "sympy",  # 80 MB of Python; torch imports it lazily, only for symbolic shapes / torch.compile
    "mpmath",
    "networkx",
    "jinja2",
    "triton",
    "caffe2",
    "tensorboard",
    "skimage",  # EXTRAS_NOT_BUNDLED
    "matplotlib",
    "pandas",
    "IPython",
    "h5py",  # EXTRAS_NOT_BUNDLED
    "bm3d",  # EXTRAS_NOT_BUNDLED
    "pytest",
    "hypothesis",
    "requests",  # only via torch.distributed.debug; the app makes no network calls
    "urllib3",
    "cryptography",
    "OpenSSL",
    "certifi",
    "charset_normalizer",
    "idna",
    "yaml",  # numpy.show_config() and torch's fake-profile export import it lazily
    "setuptools",  # via distutils/cpp_extension: building, not running
    "pkg_resources",
    "distutils",
    "wheel",
    # (numpy.f2py stays: scipy's array_api_compat clones the numpy namespace, touching numpy.f2py.)
    "tkinter",  # Pillow's ImageTk; we draw with Qt
    "_tkinter",
    "ray",  # EXTRAS_NOT_BUNDLED: `run --cluster` needs pip install 'photorestore[cluster]' (docs/batch.md)
    "PyQt5",  # another Qt binding on the build machine must never be mixed into a PySide6 app
    "PyQt6",
    "PySide2",
]

#: Optional packages that ``app`` imports lazily, inside a function, for benchmarks (classical baselines
#: in app.core.metrics.baselines), training (h5py in app.core.nets.vgg) or a Ray cluster (ray in
#: app.core.batch.cluster: a frozen app's ``--cluster`` says to pip-install the [cluster] extra). They are
#: not runtime dependencies, so the installer leaves them out; tests/packaging allows exactly these lazy
#: imports. (scipy is *not* here: app.core.metrics imports it at module level for SSIM/NIQE/analysis.)
EXTRAS_NOT_BUNDLED = {"skimage", "bm3d", "h5py", "ray"}

#: Qt modules the GUI does not use. PyInstaller's per-module hooks then leave out their libraries,
#: QML files and plugins. (QtGui/QtWidgets/QtSvg stay; QtDBus the *Python* module is not needed even
#: though the xcb plugin links libQt6DBus.)
# fmt: off
QT_MODULE_EXCLUDES = [
    f"PySide6.{m}"
    for m in (
        "QtQml", "QtQuick", "QtQuickWidgets", "QtQuickControls2", "QtQuick3D", "QtQuickTest",
        "QtWebEngineCore", "QtWebEngineWidgets", "QtWebEngineQuick", "QtWebChannel", "QtWebSockets",
        "Qt3DCore", "Qt3DRender", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation", "Qt3DExtras", "QtCharts",
        "QtDataVisualization", "QtGraphs", "QtMultimedia", "QtMultimediaWidgets", "QtNetwork",
        "QtNetworkAuth", "QtSql", "QtTest", "QtDesigner", "QtUiTools", "QtHelp", "QtXml", "QtPrintSupport",
        "QtDBus", "QtConcurrent", "QtStateMachine", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialPort",
        "QtBluetooth", "QtNfc", "QtPositioning", "QtLocation", "QtPdf", "QtPdfWidgets", "QtSpatialAudio",
        "QtTextToSpeech", "QtHttpServer", "QtAxContainer", "QtOpenGL",
        "QtOpenGLWidgets",  # the compare view paints with QPainter (tests/packaging checks imports)
    )
]
# fmt: on

STDLIB_EXCLUDES = ["pydoc_data", "lib2to3", "idlelib", "turtledemo", "ensurepip", "venv"]


def torch_dir() -> Path | None:
    """torch's package folder, found without importing torch (the spec runs before analysis)."""
    spec = importlib.util.find_spec("torch")
    return Path(spec.origin).parent if spec and spec.origin else None


def torch_testing_excludes() -> list[str]:
    """Children of ``torch.testing._internal`` other than the two that ``import torch`` uses."""
    base = torch_dir()
    folder = base / "testing" / "_internal" if base else None
    if not folder or not folder.is_dir():
        return []
    names = set()
    for entry in folder.iterdir():
        if entry.name.startswith("__"):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            names.add(entry.stem if entry.suffix == ".py" else entry.name)
    return [f"torch.testing._internal.{n}" for n in sorted(names - TORCH_TESTING_INTERNAL_KEEP)]


def module_excludes() -> list[str]:
    return (
        PROJECT_EXCLUDES
        + TORCH_EXCLUDES
        + torch_testing_excludes()
        + THIRD_PARTY_EXCLUDES
        + QT_MODULE_EXCLUDES
        + STDLIB_EXCLUDES
    )


# ---------------------------------------------------------------------------------------------
# Files left out of the collected binaries/datas (matched against the destination path inside the
# bundle, POSIX separators, fnmatch patterns where "*" also crosses "/").
# ---------------------------------------------------------------------------------------------

#: torch files that are data to PyInstaller's hook but useless in an app.
# fmt: off
TORCH_FILE_EXCLUDES = [
    "torch/bin/*",  # C++ test binaries, protoc (torch_shm_manager is kept: see FILE_KEEP)
    "torch/test/*",  # 83 MB of C++ unit tests
    "torch/include/*",  # C++ headers (62 MB) for building extensions
    "torch/share/*",  # CMake config
    "torch/lib/*.a", "torch/lib/libjitbackend_test.so", "torch/lib/libtorchbind_test.so",
    "torch/lib/libbackend_with_compiler.so", "torch/lib/libaoti_custom_ops.so",
    "torch/testing/_internal/*",  # non-Python test data (the two kept modules live in the PYZ)
    "torch/utils/model_dump/*", "torch/_inductor/*", "torch/_dynamo/*", "torch/onnx/*",
    "torch/utils/benchmark/*", "torch/utils/hipify/*", "torch/utils/cpp_extension*", "torch/_export/serde/*",
    "functorch/*", "sympy/*", "networkx/*",
]
# fmt: on

#: CUDA pieces: absent from the CPU wheel anyway; dropped explicitly so a CUDA torch in the build venv
#: cannot silently turn the CPU edition into a 4 GB one. Kept with ``--gpu``.
# fmt: off
CUDA_FILE_EXCLUDES = [
    "torch/lib/libtorch_cuda*", "torch/lib/libc10_cuda*", "torch/lib/libcaffe2_nvrtc*", "torch/lib/libnvrtc*",
    "torch/lib/libcudnn*", "torch/lib/libcublas*", "torch/lib/libnccl*", "nvidia/*", "triton/*", "libcuda*",
    "libcudnn*", "libcublas*", "libnccl*", "libnvrtc*", "libnvJitLink*", "libcusparse*", "libcufft*",
    "libcurand*", "libcusolver*",
]
# fmt: on

#: Qt pieces for platforms/features we do not ship. Kept: platforms xcb (X11), wayland, offscreen and
#: minimal (the self-test), imageformats, iconengines, platformthemes, platforminputcontexts (input
#: methods), xcbglintegrations and the wayland client plugins.
# fmt: off
QT_FILE_EXCLUDES = [
    "PySide6/Qt/translations/*",  # the UI is English-only: Qt's own .qm would give half-translated dialogs
    "PySide6/Qt/qml/*", "PySide6/Qt/metatypes/*",
    "PySide6/Qt/libexec/*",  # QtWebEngineProcess and friends
    "PySide6/Qt/plugins/platforms/libqeglfs.so", "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so", "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so", "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/wayland-graphics-integration-server/*",  # compositor side
    "PySide6/Qt/plugins/qmltooling/*", "PySide6/Qt/plugins/sqldrivers/*", "PySide6/Qt/plugins/designer/*",
    "PySide6/Qt/plugins/printsupport/*", "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/generic/*",  # evdev/tuio input for framebuffer devices
    "PySide6/Qt/lib/libQt6Quick*", "PySide6/Qt/lib/libQt6Qml*", "PySide6/Qt/lib/libQt6Designer*",
    "PySide6/Qt/lib/libQt6LabsStyleKit*", "PySide6/Qt/lib/libQt6WaylandCompositor*",
    "PySide6/Qt/lib/libQt6Pdf*", "PySide6/Qt/lib/libQt6Network*", "PySide6/Qt/lib/libQt6OpenGLWidgets*",
    "PySide6/Qt/lib/libQt6Sql*", "PySide6/Qt/lib/libQt6Test*", "PySide6/Qt/lib/libQt6Concurrent*",
    "PySide6/Qt/lib/libQt6EglFSDeviceIntegration*", "PySide6/Qt/lib/libQt6EglFsKmsSupport*", "PySide6/*.pyi",
    "PySide6/include/*", "PySide6/typesystems/*", "PySide6/glue/*",
]
# fmt: on

# fmt: off
OTHER_FILE_EXCLUDES = [
    "cv2/data/*",  # Haar cascades: we do no face/object detection
    # OpenVINO (the fast CPU backend): we run ONNX files on its CPU plugin. Its GPU/NPU plugins (51 MB) and the
    # frontends for other model formats (TensorFlow, PyTorch, Paddle, JAX, TFLite, GGUF: 13 MB) are never loaded.
    "openvino/libs/libopenvino_intel_gpu_plugin*", "openvino/libs/libopenvino_intel_npu_plugin*",
    "openvino/libs/libopenvino_tensorflow*", "openvino/libs/libopenvino_pytorch_frontend*",
    "openvino/libs/libopenvino_paddle_frontend*", "openvino/libs/libopenvino_jax_frontend*",
    "openvino/libs/libopenvino_gguf_frontend*",
    # ... and their Python bindings, which link those libraries (a bundled binding with its library left out
    # is a broken dependency that deb_depends refuses); ONNX and IR stay.
    "openvino/frontend/tensorflow/*", "openvino/frontend/pytorch/*", "openvino/frontend/jax/*",
    "openvino/frontend/paddle/*",
    "*/__pycache__/*", "*.pyi", "*.h", "*.hpp", "*.cuh", "*.cpp", "*.pyx", "rawpy/*.pyx",
    "pyexiv2/lib/exiv2api.cpp",
    "*/tests/*",  # numpy/PIL/... test folders when a hook collected them as data
]
# fmt: on


#: Matched before the exclusions: ``import torch`` checks that torch_shm_manager exists (and uses it for
#: torch.multiprocessing's file_system sharing), so the frozen app fails to start without it.
FILE_KEEP = ["torch/bin/torch_shm_manager"]


#: Linux system libraries PyInstaller would copy from the build machine but that must come from the
#: user's system (the .deb Depends on their packages; packaging/deb_depends.py works them out):
#: the GL/X11/Wayland/font/desktop stack has to match the user's drivers, display server and config
#: (a bundled libstdc++/libgcc_s older than the one Mesa's drivers were built with makes libGL fail to
#: load; a bundled fontconfig misreads a newer fonts.conf). The same list AppImages leave out.
#: Python's own dependencies (OpenSSL, sqlite, lzma, bz2, ffi, readline, uuid) stay bundled.
# fmt: off
SYSTEM_LIB_EXCLUDES = [
    "libstdc++.so*", "libgcc_s.so*", "libGL.so*", "libGLX*.so*", "libGLdispatch.so*", "libEGL*.so*",
    "libOpenGL.so*", "libgbm.so*", "libdrm.so*", "libX11.so*", "libX11-xcb.so*", "libXau.so*", "libXdmcp.so*",
    "libXext.so*", "libXrender.so*", "libXi.so*", "libXfixes.so*", "libXcursor.so*", "libXrandr.so*",
    "libXinerama.so*", "libXcomposite.so*", "libXdamage.so*", "libSM.so*", "libICE.so*", "libxcb*.so*",
    "libxkbcommon*.so*", "libxshmfence.so*", "libwayland-*.so*", "libfontconfig.so*", "libfreetype.so*",
    "libharfbuzz*.so*", "libgraphite2.so*", "libpng16.so*", "libbrotli*.so*", "libexpat.so*", "libz.so*",
    "libdbus-1.so*", "libsystemd.so*", "libudev.so*", "libcap.so*", "libgcrypt.so*", "libgpg-error.so*",
    "liblz4.so*", "libzstd.so*", "libglib-2.0.so*", "libgio-2.0.so*", "libgobject-2.0.so*",
    "libgmodule-2.0.so*", "libgthread-2.0.so*", "libgtk-3.so*", "libgdk-3.so*", "libgdk_pixbuf-2.0.so*",
    "libatk*.so*", "libatspi.so*", "libcairo*.so*", "libpango*.so*", "libfribidi.so*", "libdatrie.so*",
    "libthai.so*", "libpixman-1.so*", "libepoxy.so*", "libselinux.so*", "libmount.so*", "libblkid.so*",
    "libpcre2-*.so*", "libjpeg.so*", "libtiff.so*", "libwebp*.so*", "libjbig.so*", "libLerc.so*",
    "libdeflate.so*", "libsharpyuv.so*", "libkrb5*.so*", "libgssapi_krb5.so*", "libk5crypto.so*",
    "libcom_err.so*", "libkeyutils.so*", "libbsd.so*", "libmd.so*", "libasound.so*", "libcups.so*",
    "libavahi*.so*",
]
# fmt: on
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")


def is_unbundled_system_lib(dest: str, src: str | None) -> bool:
    """True for a library copied from the build machine's system folders that the user's system provides.

    Only files PyInstaller took from system folders (not from a wheel: ``opencv_python_headless.libs``
    carries its own renamed ``libpng16-529cb57a.so``) and put at the top of the bundle.
    """
    if not src or "/" in dest.replace("\\", "/") or not src.startswith(SYSTEM_LIB_DIRS):
        return False
    return any(fnmatch.fnmatchcase(dest, pat) for pat in SYSTEM_LIB_EXCLUDES)


def file_excludes(*, gpu: bool = False) -> list[str]:
    patterns = TORCH_FILE_EXCLUDES + QT_FILE_EXCLUDES + OTHER_FILE_EXCLUDES
    return patterns if gpu else patterns + CUDA_FILE_EXCLUDES


def is_excluded_file(dest: str, patterns: list[str]) -> bool:
    """True if a bundle path (``dest`` as PyInstaller's TOC names it) matches one of ``patterns``."""
    posix = str(PurePosixPath(*Path(dest).parts))
    name = posix.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatchcase(posix, keep) for keep in FILE_KEEP):
        return False
    for pattern in patterns:
        # A pattern without "/" matches the file name anywhere; with "/" it matches the whole path.
        target = posix if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern):
            return True
    return False


def extra_binaries() -> list[tuple[str, str]]:
    """Libraries PyInstaller's dependency analysis misses.

    pyexiv2 loads ``pyexiv2/lib/libexiv2.so`` with ctypes *by path* before importing its extension
    (whose DT_NEEDED says ``libexiv2.so.28``, a name that file does not have), so the library must sit
    in ``pyexiv2/lib`` inside the bundle, under its own name.
    """
    spec = importlib.util.find_spec("pyexiv2")
    if not spec or not spec.origin:
        return []
    lib = Path(spec.origin).parent / "lib"
    names = {"linux": "libexiv2.so", "darwin": "libexiv2.dylib", "win32": "exiv2.dll"}
    import sys

    found = [p for p in lib.glob(names.get(sys.platform, "libexiv2.so"))]
    return [(str(p), "pyexiv2/lib") for p in found] + _openvino_plugins()


#: OpenVINO loads its device plugins and model-format frontends with dlopen from the folder of
#: libopenvino itself (``openvino/libs``: ``_pyopenvino``'s RPATH), so PyInstaller's link analysis never
#: sees them: without these the frozen app's OpenVINO cannot read an ONNX file. CPU only, ONNX and IR only.
OPENVINO_PLUGINS = ["*openvino_intel_cpu_plugin*", "*openvino_auto_plugin*", "*openvino_auto_batch_plugin*",
                    "*openvino_hetero_plugin*", "*openvino_onnx_frontend*", "*openvino_ir_frontend*"]


def _openvino_plugins() -> list[tuple[str, str]]:
    spec = importlib.util.find_spec("openvino")
    if not spec or not spec.origin:
        return []
    libs = Path(spec.origin).parent / "libs"
    found = sorted({p for pattern in OPENVINO_PLUGINS for p in libs.glob(pattern) if p.is_file()})
    return [(str(p), "openvino/libs") for p in found]


# ---------------------------------------------------------------------------------------------
# Our data: resources/ and models/.
# ---------------------------------------------------------------------------------------------

#: Source material that stays in the repository (translation sources, drawing files, notes).
RESOURCE_SKIP = ["*.ts", "*.pro", "*.xcf", "*.kra", "*.psd", "*.py", "*.pyc", "README*", ".*"]
#: Only what the registry needs at run time: the manifest, the weights it verifies, and model cards
#: (they carry the licence and training-data notes the app shows). Training checkpoints stay out.
MODEL_FILES = ["manifest.toml", "*.safetensors", "*.onnx", "*.md"]


def package_data(root: Path = ROOT) -> list[tuple[str, str]]:
    """Non-Python files inside ``app/`` (not ``app/train``): modules find them next to themselves with
    ``Path(__file__).with_name(...)`` (NIQE's fitted parameters, the noise calibration). The modules
    live in the PYZ archive, so these files must be put where ``__file__`` points: ``_MEIPASS/app/...``."""
    pairs = []
    for path in sorted((root / "app").rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[:2] == ("app", "train") or "__pycache__" in rel.parts:
            continue
        if path.suffix in (".py", ".pyc", ".pyi"):
            continue
        pairs.append((str(path), str(rel.parent)))
    return pairs


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source file, destination folder) pairs for ``resources/``, ``models/`` and ``app``'s data files.

    Destinations mirror the repository, so ``sys._MEIPASS/resources`` and ``sys._MEIPASS/models``
    are what ``app.selftest.resources_dir()`` and ``app.core.models.manifest.models_dir()`` expect.
    """
    pairs: list[tuple[str, str]] = package_data(root)
    res = root / "resources"
    for path in sorted(res.rglob("*")) if res.is_dir() else []:
        rel = path.relative_to(root)
        if not path.is_file() or any(
            fnmatch.fnmatchcase(part, pat) for part in rel.parts for pat in RESOURCE_SKIP
        ):
            continue
        pairs.append((str(path), str(rel.parent)))
    models = root / "models"
    for path in sorted(models.iterdir()) if models.is_dir() else []:
        if path.is_file() and any(fnmatch.fnmatchcase(path.name, pat) for pat in MODEL_FILES):
            pairs.append((str(path), "models"))
    return pairs


def app_version(root: Path = ROOT) -> str:
    """``app.__version__``, read from the source without importing the package (as setuptools does)."""
    tree = ast.parse((root / "app" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise RuntimeError("app/__init__.py defines no __version__")


def app_modules(root: Path = ROOT) -> list[str]:
    """Every module of ``app`` except ``app.train``: hidden imports, so lazily imported GUI/op modules
    are bundled even where an import is built at run time."""
    mods = []
    for path in sorted((root / "app").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name == "app.train" or name.startswith("app.train."):
            continue
        mods.append(name)
    return mods


# ---------------------------------------------------------------------------------------------
# Third-party licences: the installer redistributes torch (BSD), Qt/PySide6 (LGPL), OpenCV
# (Apache-2.0), LibRaw, exiv2 (GPL), numpy, Pillow, ... and must carry their licence texts.
# ---------------------------------------------------------------------------------------------

LICENSE_NAMES = ["LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*", "THIRD_PARTY*", "LICENSE-3RD-PARTY*"]


def license_datas(toplevel_names: set[str]) -> list[tuple[str, str]]:
    """(licence file, destination folder under ``licenses/<distribution>/``) for each installed
    distribution that provides one of ``toplevel_names`` (the top-level packages the analysis
    collected). Paths inside a distribution are kept, since torch alone ships 100 files named LICENSE.
    A distribution whose wheel has no licence file (PySide6, shiboken6) gets its METADATA, which
    names the licence and the source."""
    from importlib import metadata

    owners = sorted(
        {
            d
            for top, dists in metadata.packages_distributions().items()
            if top in toplevel_names
            for d in dists
        }
    )
    pairs: list[tuple[str, str]] = []
    for dist_name in owners:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        name = dist.metadata["Name"]
        found: list[tuple[str, str]] = []
        metadata_file = None
        for f in dist.files or []:
            parts = PurePosixPath(str(f)).parts
            in_meta = bool(parts) and parts[0].endswith((".dist-info", ".egg-info"))
            is_license = any(fnmatch.fnmatch(parts[-1].upper(), pat.upper()) for pat in LICENSE_NAMES)
            src = Path(str(dist.locate_file(f)))
            if in_meta and parts[-1] == "METADATA":
                metadata_file = src
            if not ((in_meta and ("licenses" in parts or is_license)) or (is_license and len(parts) <= 2)):
                continue
            rel = list(parts[1:] if in_meta else parts)
            if rel and rel[0] == "licenses":
                rel = rel[1:]
            if src.is_file():
                found.append((str(src), str(PurePosixPath("licenses", name, *rel[:-1]))))
        if not found and metadata_file is not None and metadata_file.is_file():
            found.append((str(metadata_file), f"licenses/{name}"))
        pairs += found
    return pairs
