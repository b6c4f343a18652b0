"""manifest.toml: parsing, per-entry validation, TOML writing, atomic updates."""

from __future__ import annotations

import pytest

from app.core.models.manifest import (  # tomllib: the module's 3.10 fallback (tomli) included
    DEFAULT_HEADER,
    ManifestEntry,
    ManifestError,
    read_manifest,
    render_manifest,
    toml_value,
    tomllib,
    update_manifest,
)

SHA = "ab" * 32


def entry(mid: str = "m1", **kw) -> ManifestEntry:
    base = {"file": f"{mid}-abababab.safetensors", "sha256": SHA, "architecture": "arch",
            "config": {"width": 8, "act": "relu", "dims": [1, 2], "sub": {"a": 1.5}}, "licence": "CC0-1.0",
            "training_data": 'own "photos" (CC0)', "card": f"{mid}.md", "metrics": {"psnr": 31.25},
            "created": "2026-01-02T03:04:05Z"}
    return ManifestEntry(id=mid, **{**base, **kw})


def test_no_manifest_means_no_entries(tmp_path):
    assert read_manifest(tmp_path) == {}


def test_render_read_round_trip(tmp_path):
    entries = {"m1": entry("m1"), "b-2": entry("b-2", trained=False, metrics={})}
    (tmp_path / "manifest.toml").write_text(render_manifest(entries))
    assert read_manifest(tmp_path) == entries
    text = (tmp_path / "manifest.toml").read_text()
    assert text.startswith(DEFAULT_HEADER) and text.index("[models.b-2]") < text.index("[models.m1]")


@pytest.mark.parametrize("value", ['quote " back \\ slash', "line\nbreak\ttab", "üñí €", "", 1e-30, -7, True,
                                   float("inf"), [1, "a", [2.5]], {"x y": {"z": False}}])
def test_toml_values_round_trip(value):
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value


def test_toml_rejects_none():
    with pytest.raises(TypeError, match="cannot write NoneType"):
        toml_value({"a": None})


def test_malformed_entries_are_isolated(tmp_path):
    (tmp_path / "manifest.toml").write_text(f"""
format = 1
[models.good]
file = "good.safetensors"
sha256 = "{SHA}"
architecture = "a"
[models.nofile]
sha256 = "{SHA}"
architecture = "a"
[models.escape]
file = "../../etc/passwd"
sha256 = "{SHA}"
architecture = "a"
[models.badsha]
file = "x.safetensors"
sha256 = "1234"
architecture = "a"
""")
    entries = read_manifest(tmp_path)
    assert not entries["good"].problem and entries["good"].trained
    assert "missing file" in entries["nofile"].problem
    assert "plain file name" in entries["escape"].problem
    assert "64 hex digits" in entries["badsha"].problem


@pytest.mark.parametrize(("text", "message"), [
    ("[models.x\nfile = 1", "not valid TOML"),
    ("format = 2", "format 2"),
    ("models = 3", "must be a table"),
])
def test_unreadable_manifest_raises(tmp_path, text, message):
    (tmp_path / "manifest.toml").write_text(text)
    with pytest.raises(ManifestError, match=message):
        read_manifest(tmp_path)


def test_update_keeps_header_and_malformed_entries(tmp_path):
    header = "# our own header\n# second line\n"
    broken = '[models.broken]\nfile = "a.safetensors"\n'
    (tmp_path / "manifest.toml").write_text(header + "\nformat = 1\n" + broken)
    assert update_manifest(tmp_path, put=entry("m1")) is None
    old = update_manifest(tmp_path, put=entry("m1", sha256="cd" * 32))
    assert old is not None and old.sha256 == SHA
    text = (tmp_path / "manifest.toml").read_text()
    assert text.startswith(header)
    entries = read_manifest(tmp_path)
    assert entries["m1"].sha256 == "cd" * 32
    assert entries["broken"].problem and entries["broken"].raw == {"file": "a.safetensors"}  # kept as it was
    assert update_manifest(tmp_path, remove="m1").id == "m1"
    assert set(read_manifest(tmp_path)) == {"broken"}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.toml"]  # no temporary files left


def test_update_refuses_to_overwrite_an_unreadable_manifest(tmp_path):
    (tmp_path / "manifest.toml").write_text("not = [valid")
    with pytest.raises(ManifestError):
        update_manifest(tmp_path, put=entry())
    assert (tmp_path / "manifest.toml").read_text() == "not = [valid"
