"""Weight verification states, the hash cache, and verified loading."""

from __future__ import annotations

import hashlib
import os

import pytest
import safetensors.torch
import torch

from app.core.models import weights
from app.core.models.manifest import ManifestEntry
from app.core.models.weights import ModelUnavailableError, load_weights, verify


def write_weights(directory, name="w.safetensors", **entry_kw):
    data = safetensors.torch.save({"conv.weight": torch.arange(12.0).reshape(3, 4)}, metadata={"k": "v"})
    (directory / name).write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return ManifestEntry(id="m", file=name, sha256=sha, architecture="a", **entry_kw)


def flip_byte(path, offset=-5):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_states(tmp_path):
    entry = write_weights(tmp_path)
    assert verify(entry, tmp_path).name == "verified"
    assert verify(ManifestEntry(**{**entry.__dict__, "trained": False}), tmp_path).name == "untrained"
    flip_byte(tmp_path / "w.safetensors")
    state = verify(entry, tmp_path)
    assert state.name == "corrupt" and "sha256" in state.message
    (tmp_path / "w.safetensors").unlink()
    state = verify(entry, tmp_path)
    assert state.name == "missing" and "w.safetensors" in state.message


def test_matching_hash_but_not_safetensors_is_corrupt(tmp_path):
    junk = b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}"
    (tmp_path / "junk.safetensors").write_bytes(junk)
    entry = ManifestEntry(id="m", file="junk.safetensors", sha256=hashlib.sha256(junk).hexdigest(),
                          architecture="a")
    state = verify(entry, tmp_path)
    assert state.name == "corrupt" and "safetensors" in state.message
    with pytest.raises(ModelUnavailableError) as err:
        load_weights(entry, tmp_path)
    assert err.value.state == "corrupt" and err.value.model_id == "m"


def test_hash_is_cached_by_mtime_and_size(tmp_path, monkeypatch):
    weights.clear_hash_cache()
    entry = write_weights(tmp_path)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(weights.hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    for _ in range(3):
        assert verify(entry, tmp_path).ok
        load_weights(entry, tmp_path)
    assert len(calls) == 1  # hashed once, then memory-mapped without re-hashing
    path = tmp_path / "w.safetensors"
    st = path.stat()
    flip_byte(path)  # same size...
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # ...new mtime
    assert verify(entry, tmp_path).name == "corrupt"
    assert len(calls) == 2


def test_load_returns_tensors_and_metadata(tmp_path):
    weights.clear_hash_cache()
    entry = write_weights(tmp_path)
    for _ in range(2):  # first from the hashed bytes, then from the verified cache
        tensors, meta = load_weights(entry, tmp_path)
        assert torch.equal(tensors["conv.weight"], torch.arange(12.0).reshape(3, 4))
        assert meta == {"k": "v"}


@pytest.mark.parametrize(("change", "state"),
                         [("delete", "missing"), ("flip", "corrupt"), ("untrained", "untrained")])
def test_load_refuses_unverified_weights(tmp_path, change, state):
    entry = write_weights(tmp_path)
    if change == "delete":
        (tmp_path / "w.safetensors").unlink()
    elif change == "flip":
        flip_byte(tmp_path / "w.safetensors")
    else:
        entry = ManifestEntry(**{**entry.__dict__, "trained": False})
    with pytest.raises(ModelUnavailableError, match=f"model m is {state}") as err:
        load_weights(entry, tmp_path)
    assert err.value.state == state


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_an_edit_keeping_size_and_mtime_is_still_caught(tmp_path, how):
    """Issue 22 #11: one long-running process, a same-size edit with the mtime set back: hashed again."""
    weights.clear_hash_cache()
    entry = write_weights(tmp_path)
    path = tmp_path / "w.safetensors"
    assert verify(entry, tmp_path).ok
    load_weights(entry, tmp_path)
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    if how == "in place":
        with open(path, "r+b") as fh:
            fh.write(bytes(data))
    else:  # a new file (new inode) moved over the old one
        (tmp_path / "new").write_bytes(bytes(data))
        os.replace(tmp_path / "new", path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert verify(entry, tmp_path).name == "corrupt"
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        load_weights(entry, tmp_path)
