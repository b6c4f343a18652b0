"""Weight files: sha256 verification (cached), safetensors loading, and model states.

States, as ``photorestore models`` and the ops' availability report them:

* ``verified``  -- manifest entry, file present, sha256 matches, safetensors header readable.
* ``missing``   -- manifest entry whose file is absent, or an id nobody registered.
* ``corrupt``   -- sha256 mismatch, unreadable safetensors, malformed manifest entry, or
  weights that do not fit the registered architecture.
* ``untrained`` -- a registered model with no manifest entry yet, or one marked ``trained = false``.

Hashing a 100 MB file takes ~0.2 s, so results are cached by (path, inode, mtime, ctime, size): checking
states for every UI refresh or loading a model twice costs a ``stat``. Weights are never used
unverified: a file that changed since it was hashed is hashed again from the very bytes that
are then deserialised.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import safetensors

if TYPE_CHECKING:
    import torch

from app.core.models.manifest import ManifestEntry, ManifestError, manifest_path, models_dir, read_manifest

VERIFIED, MISSING, CORRUPT, UNTRAINED = "verified", "missing", "corrupt", "untrained"
STATES = (VERIFIED, MISSING, CORRUPT, UNTRAINED)

__all__ = [
    "CORRUPT", "MISSING", "STATES", "UNTRAINED", "VERIFIED", "ManifestEntry", "ManifestError", "ModelState",
    "ModelUnavailableError", "file_sha256", "load_onnx", "load_weights", "manifest_path", "models_dir", "read_manifest",
    "verify",
]

_lock = threading.Lock()
# (resolved path, inode, mtime_ns, ctime_ns, size) -> (sha256, safetensors problem or "")
_hash_cache: dict[tuple[str, int, int, int, int], tuple[str, str]] = {}


@dataclass(frozen=True)
class ModelState:
    """``name`` is one of :data:`STATES`; ``message`` says why, for users (one line)."""

    name: str
    message: str

    @property
    def ok(self) -> bool:
        return self.name == VERIFIED


class ModelUnavailableError(RuntimeError):
    """A model cannot be used; ``state`` says which of :data:`STATES` and ``message`` why."""

    def __init__(self, model_id: str, state: str, message: str) -> None:
        super().__init__(f"model {model_id} is {state}: {message}")
        self.model_id = model_id
        self.state = state
        self.message = message


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    """What identifies one version of a file. mtime and size alone miss an in-place edit that keeps both
    (``os.utime`` can set mtime back); the inode changes when a file is replaced, and ctime changes on
    every write or utime and cannot be set by users, so a tampered file is hashed again."""
    st = path.stat()
    return (str(path.resolve()), st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def _header_problem(path: Path) -> str:
    """'' if safetensors can parse the header (names, dtypes, shapes, offsets), else why not."""
    try:
        # framework="numpy": the header check must not import torch (it runs at GUI start-up).
        with safetensors.safe_open(str(path), framework="numpy") as fh:
            fh.keys()
    except Exception as exc:  # noqa: BLE001 - any parse failure means "corrupt"
        return f"not a readable safetensors file ({type(exc).__name__}: {str(exc)[:120]})"
    return ""


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file, cached by (path, inode, mtime, ctime, size)."""
    return _check(Path(path))[0]


def _check(path: Path) -> tuple[str, str]:
    key = _stat_key(path)
    with _lock:
        hit = _hash_cache.get(key)
    if hit is not None:
        return hit
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    result = (digest.hexdigest(), _header_problem(path))
    with _lock:
        _hash_cache[key] = result
    return result


def clear_hash_cache() -> None:
    with _lock:
        _hash_cache.clear()


def _where(entry: ManifestEntry, directory: Path) -> Path:
    return directory / entry.file


def verify(entry: ManifestEntry, directory: Path | None = None) -> ModelState:
    """State of one manifest entry's weights (hashes the file unless cached)."""
    directory = directory or models_dir()
    if entry.problem:
        return ModelState(CORRUPT, entry.problem)
    if not entry.trained:
        return ModelState(UNTRAINED, "the manifest marks it as not trained yet")
    path = _where(entry, directory)
    if not path.is_file():
        return ModelState(MISSING, f"weights file {path} is missing; re-export the model or restore the file")
    try:
        sha, problem = _check(path)
    except OSError as exc:
        return ModelState(CORRUPT, f"cannot read {path}: {exc}")
    if sha != entry.sha256:
        return ModelState(CORRUPT, f"weights file {path.name} is corrupt or was replaced: sha256 "
                                   f"{sha[:12]}... does not match the manifest's {entry.sha256[:12]}...")
    if problem:
        return ModelState(CORRUPT, f"weights file {path.name}: {problem}")
    return ModelState(VERIFIED, f"{entry.file} (sha256 {sha[:8]})")


def lookup(model_id: str, directory: Path | None = None) -> tuple[ManifestEntry | None, ModelState | None]:
    """(entry, None) if the manifest lists ``model_id``, (None, None) if not, (None, corrupt state) if the
    manifest itself is unreadable."""
    try:
        return read_manifest(directory).get(model_id), None
    except (ManifestError, OSError) as exc:
        return None, ModelState(CORRUPT, f"model manifest unreadable: {exc}")


def load_weights(entry: ManifestEntry, directory: Path | None = None,
                 device: str | torch.device = "cpu") -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Verified state dict and safetensors metadata of a manifest entry.

    Args:
        entry: the model's manifest entry.
        directory: models directory (default :func:`models_dir`).
        device: where the tensors are placed.

    Returns:
        ``(state_dict, metadata)``; tensors keep the dtype they were saved with.

    Raises:
        ModelUnavailableError: the file is missing, fails its sha256, or does not parse.
    """
    import safetensors.torch  # torch only when weights are loaded: state checks stay light
    import torch

    directory = directory or models_dir()
    path = _where(entry, directory)
    if entry.problem or not entry.trained or not path.is_file():
        state = verify(entry, directory)
        raise ModelUnavailableError(entry.id, state.name, state.message)
    dev = torch.device(device)
    try:
        key = _stat_key(path)
        with _lock:
            hit = _hash_cache.get(key)
        data = None
        if hit is None:
            # First use of this file version: hash exactly the bytes we deserialise, so a file
            # swapped between hashing and loading can never be used unverified.
            data = path.read_bytes()
            hit = (hashlib.sha256(data).hexdigest(), _header_problem(path))
            if _stat_key(path) == key:
                with _lock:
                    _hash_cache[key] = hit
    except OSError as exc:
        raise ModelUnavailableError(entry.id, MISSING, f"cannot read {path}: {exc}") from exc
    sha, problem = hit
    if sha != entry.sha256 or problem:
        state = verify(entry, directory)
        raise ModelUnavailableError(entry.id, CORRUPT, state.message if not state.ok else
                                    f"{path.name} changed while loading; try again")
    try:
        if data is not None:
            tensors = safetensors.torch.load(data)
        else:  # verified before at this (inode, mtime, ctime, size): memory-map it, no second hash
            tensors = safetensors.torch.load_file(path, device="cpu")
        # framework="numpy": the header check must not import torch (it runs at GUI start-up).
        with safetensors.safe_open(str(path), framework="numpy") as fh:
            metadata = dict(fh.metadata() or {})
    except Exception as exc:  # noqa: BLE001 - any parse failure is corruption
        raise ModelUnavailableError(entry.id, CORRUPT,
                                    f"{path.name} is not readable safetensors: {exc}") from exc
    if dev.type != "cpu":
        tensors = {k: v.to(dev) for k, v in tensors.items()}
    return tensors, metadata


def load_onnx(entry: ManifestEntry, directory: Path | None = None) -> bytes:
    """The verified bytes of an entry's ONNX export (the fast CPU backends' model file).

    The sha256 is computed from the very bytes returned, so the runtime never parses an unverified file.

    Raises:
        ModelUnavailableError: no export listed, a malformed ``onnx`` table, a missing file or a sha256
            mismatch (the caller falls back to torch: the safetensors weights are still good).
    """
    directory = directory or models_dir()
    if entry.onnx_problem:
        raise ModelUnavailableError(entry.id, CORRUPT, f"manifest entry [models.{entry.id}]: {entry.onnx_problem}")
    if not entry.onnx:
        raise ModelUnavailableError(entry.id, MISSING, "no ONNX export is listed in the manifest")
    if str(entry.onnx.get("weights_sha256", entry.sha256)).lower() != entry.sha256:
        raise ModelUnavailableError(entry.id, CORRUPT, "the ONNX export was made from other weights; "
                                                       "re-export it (python -m app.train.export_onnx)")
    path = directory / str(entry.onnx["file"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailableError(entry.id, MISSING, f"cannot read {path}: {exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    if sha != str(entry.onnx["sha256"]).lower():
        raise ModelUnavailableError(entry.id, CORRUPT, f"ONNX file {path.name} is corrupt or was replaced: sha256 "
                                                       f"{sha[:12]}... does not match the manifest's "
                                                       f"{str(entry.onnx['sha256'])[:12]}...")
    return data
