"""``models/manifest.toml``: where it lives, how it is read, and how entries are written atomically.

Format (also in the file's header): one table per model, keyed by model id, so a duplicate id
is a TOML error rather than a silent ambiguity, and replacing an entry is a key assignment::

    format = 1

    [models.kind_lowlight]
    file = "kind_lowlight-1a2b3c4d.safetensors"
    sha256 = "1a2b3c4d..."            # 64 hex digits, of the whole file
    architecture = "kind"
    config = { width = 32 }           # builder keyword arguments
    licence = "GPL-3.0-or-later"
    training_data = "SICE (research use), own photos (CC0)"
    card = "kind_lowlight.md"
    trained = true
    created = "2026-05-09T12:00:00Z"
    metrics = { psnr = 21.3, ssim = 0.78 }   # optional
    onnx = { file = "kind_lowlight-5e6f7a8b.onnx", sha256 = "5e6f...", bf16 = "preview" }  # optional

The file is written by :func:`app.core.models.export.export_model`; the header comment is
kept, other comments are not.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.fsutil import atomic_write

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from app.core.models.descriptor import MODEL_ID_RE

MANIFEST_NAME = "manifest.toml"
FORMAT_VERSION = 1
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_write_lock = threading.Lock()
_read_cache: dict[tuple[str, int, int], dict[str, ManifestEntry]] = {}

DEFAULT_HEADER = """\
# PhotoRestore model manifest: one [models.<id>] table per trained model, keyed by model id.
# Written by app.core.models.export.export_model (the training runner's export step); entries
# are data, so comments other than this header are not kept when an entry is (re)exported.
#
# [models.<id>]                      # id: lower-case letters, digits, "_" and "-"; the model must
#                                    #   also be registered in app/core/models/catalog.py
# file = "<id>-<sha8>.safetensors"   # weights, in this directory
# sha256 = "<64 hex digits>"         # of the whole file; checked before the weights are used
# architecture = "<arch>"            # must equal the registered descriptor's arch
# config = { key = value, ... }      # builder keyword arguments (override the catalog's)
# licence = "..."                    # licence of the weights
# training_data = "..."              # data sets used, with their licences
# card = "<id>.md"                   # model card: architecture, data, command, iterations,
#                                    #   wall time, hardware, validation metrics
# trained = true                     # false: a placeholder, reported as "untrained"
# created = "YYYY-MM-DDTHH:MM:SSZ"   # export time, UTC
# metrics = { psnr = 0.0, ... }      # optional validation metrics
# onnx = { file = "<id>-<sha8>.onnx", sha256 = "...", bf16 = "full" | "preview" | "no", ... }
#                                    # optional: the ONNX export the fast CPU backends run, checked
#                                    #   like the weights; bf16 = where the precision policy allows
#                                    #   bfloat16 (docs/performance.md), with the measurements
"""


class ManifestError(ValueError):
    """The manifest file cannot be parsed at all."""


@dataclass(frozen=True)
class ManifestEntry:
    """One ``[models.<id>]`` table. ``problem`` is set (and the model reported corrupt) when the
    table is malformed; the rest of the manifest stays usable."""

    id: str
    file: str
    sha256: str
    architecture: str
    config: dict[str, Any] = field(default_factory=dict)
    licence: str = ""
    training_data: str = ""
    card: str = ""
    trained: bool = True
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    onnx: dict[str, Any] = field(default_factory=dict)
    onnx_problem: str = ""
    problem: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_toml_table(self) -> dict[str, Any]:
        if self.problem:  # rewrite a malformed entry as it was, rather than "fixing" it into garbage
            return self.raw
        table: dict[str, Any] = {
            "file": self.file, "sha256": self.sha256, "architecture": self.architecture,
            "config": self.config, "licence": self.licence, "training_data": self.training_data,
            "card": self.card, "trained": self.trained, "created": self.created,
        }
        if self.metrics:
            table["metrics"] = self.metrics
        if self.onnx:
            table["onnx"] = self.onnx
        return table


def models_dir() -> Path:
    """Directory holding ``manifest.toml``, weights and model cards.

    ``$PHOTORESTORE_MODELS_DIR`` if set (tests, custom installs); ``<sys._MEIPASS>/models`` in a
    PyInstaller build (the spec must bundle ``models/`` there); else ``<repo>/models``.
    """
    env = os.environ.get("PHOTORESTORE_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "models"
    return Path(__file__).resolve().parents[3] / "models"


def manifest_path(directory: Path | None = None) -> Path:
    return (directory or models_dir()) / MANIFEST_NAME


def _parse_entry(model_id: str, table: Any) -> ManifestEntry:
    def bad(problem: str) -> ManifestEntry:
        return ManifestEntry(model_id, "", "", "", problem=f"manifest entry [models.{model_id}]: {problem}",
                             raw=table if isinstance(table, dict) else {})

    if not isinstance(table, dict):
        return bad("is not a table")
    if not MODEL_ID_RE.match(model_id):
        return bad("invalid model id")
    missing = [k for k in ("file", "sha256", "architecture") if not table.get(k)]
    if missing:
        return bad(f"missing {', '.join(missing)}")
    name = str(table["file"])
    if Path(name).name != name or name.startswith("."):  # never read outside the models directory
        return bad(f"file {name!r} must be a plain file name in the models directory")
    sha = str(table["sha256"]).lower()
    if not _SHA_RE.match(sha):
        return bad("sha256 must be 64 hex digits")
    for key in ("config", "metrics"):
        if not isinstance(table.get(key, {}), dict):
            return bad(f"{key} must be a table")
    onnx = table.get("onnx", {})
    return ManifestEntry(
        onnx=dict(onnx) if isinstance(onnx, dict) else {}, onnx_problem=_onnx_problem(onnx),
        id=model_id, file=name, sha256=sha, architecture=str(table["architecture"]),
        config=dict(table.get("config", {})), licence=str(table.get("licence", "")),
        training_data=str(table.get("training_data", "")), card=str(table.get("card", "")),
        trained=bool(table.get("trained", True)), metrics=dict(table.get("metrics", {})),
        created=str(table.get("created", "")),
    )


BF16_POLICIES = ("full", "preview", "no")


def _onnx_problem(onnx: Any) -> str:
    """Why an ``onnx`` table is unusable ('' if fine). A bad ONNX entry only costs the fast backend:
    the model still runs on torch, so it does not make the whole entry corrupt."""
    if not isinstance(onnx, dict):
        return "onnx must be a table"
    if not onnx:
        return ""
    name = str(onnx.get("file", ""))
    if not name or Path(name).name != name or name.startswith(".") or not name.endswith(".onnx"):
        return f"onnx file {name!r} must be a plain .onnx file name in the models directory"
    if not _SHA_RE.match(str(onnx.get("sha256", "")).lower()):
        return "onnx sha256 must be 64 hex digits"
    if onnx.get("bf16", "no") not in BF16_POLICIES:
        return f"onnx bf16 must be one of {', '.join(BF16_POLICIES)}"
    return ""


def read_manifest(directory: Path | None = None) -> dict[str, ManifestEntry]:
    """Entries of the manifest by model id; ``{}`` if there is no manifest file.

    Cached by (path, mtime, size), so calling it per UI refresh is cheap.

    Raises:
        ManifestError: the file is not valid TOML or has no usable structure.
    """
    path = manifest_path(directory)
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    key = (str(path), st.st_mtime_ns, st.st_size)
    cached = _read_cache.get(key)
    if cached is not None:
        return dict(cached)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not valid TOML: {exc}") from exc
    fmt = data.get("format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION:
        raise ManifestError(f"{path} has format {fmt!r}; this version of PhotoRestore reads "
                            f"format {FORMAT_VERSION}")
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise ManifestError(f"{path}: 'models' must be a table of [models.<id>] tables")
    entries = {mid: _parse_entry(mid, table) for mid, table in models.items()}
    _read_cache.clear()  # one live version per path is enough
    _read_cache[key] = entries
    return dict(entries)


# --- writing -------------------------------------------------------------------------------------------


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """Serialise a value as TOML (strings, bools, numbers, lists, nested inline tables)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to TOML")


def render_manifest(entries: Mapping[str, ManifestEntry], header: str = DEFAULT_HEADER) -> str:
    lines = [header.rstrip("\n"), "", f"format = {FORMAT_VERSION}", ""]
    for mid in sorted(entries):
        lines.append(f"[models.{_toml_key(mid)}]")
        lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in entries[mid].to_toml_table().items()]
        lines.append("")
    return "\n".join(lines)


def _existing_header(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return DEFAULT_HEADER
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return "\n".join(header) + "\n" if header else DEFAULT_HEADER


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise read-modify-write of the manifest across threads and (on POSIX) processes."""
    with _write_lock:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock is all we have
            yield
            return
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def update_manifest(directory: Path | None = None, *, put: ManifestEntry | None = None,
                    remove: str | None = None) -> ManifestEntry | None:
    """Add/replace ``put`` and/or delete ``remove`` in the manifest, atomically.

    Returns:
        The entry that ``put`` replaced (or ``remove`` removed), if any.

    Raises:
        ManifestError: the existing manifest is unreadable (it is not overwritten).
    """
    directory = directory or models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = manifest_path(directory)
    with _directory_lock(directory):
        entries = read_manifest(directory)
        old = None
        if remove is not None:
            old = entries.pop(remove, None)
        if put is not None:
            old = entries.get(put.id, old)
            entries[put.id] = put
        atomic_write(path, render_manifest(entries, _existing_header(path)))
    return old
