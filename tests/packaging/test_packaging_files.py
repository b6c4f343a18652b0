"""The installer files: .desktop entry, MIME types, Debian control template, Inno Setup script,
shell scripts and icons (fast; no PyInstaller run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import REPO, load_packaging_module  # tests/packaging/conftest.py

DEB = REPO / "packaging" / "deb"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
FREEDESKTOP_XML = Path("/usr/share/mime/packages/freedesktop.org.xml")


def _desktop_entry() -> dict[str, str]:
    """The [Desktop Entry] group, parsed the way the spec says (key=value, case-sensitive keys)."""
    lines = (DEB / "photorestore.desktop").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = {}
    for line in lines[1:]:
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("["), "one group only"
        key, sep, value = line.partition("=")
        assert sep and key == key.strip() and key not in entry, line
        entry[key] = value
    return entry


def test_desktop_entry_is_valid(file_types):
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "PhotoRestore"
    assert entry["Exec"] == "photorestore %F"  # the launcher in /usr/bin; %F: several files open at once
    assert entry["Icon"] == "photorestore"  # /usr/share/icons/hicolor/<n>x<n>/apps/photorestore.png
    assert entry["Terminal"] == "false"
    assert "Graphics" in entry["Categories"].split(";")
    mimes = [m for m in entry["MimeType"].split(";") if m]
    assert entry["MimeType"].endswith(";") and len(mimes) == len(set(mimes))
    assert mimes == [file_types.RAW_PARENT_TYPE] + [m for m, _, _ in file_types.FILE_TYPES]
    for required in (
        "image/x-canon-cr2",
        "image/x-nikon-nef",
        "image/x-sony-arw",
        "image/x-adobe-dng",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/webp",
    ):
        assert required in mimes


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_desktop_file_validate():
    res = subprocess.run(
        ["desktop-file-validate", str(DEB / "photorestore.desktop")], capture_output=True, text=True
    )
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr


def test_mime_xml_declares_every_raw_type(file_types):
    root = ET.parse(DEB / "photorestore.xml").getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    declared = {}
    for mt in root.findall(f"{MIME_NS}mime-type"):
        assert mt.find(f"{MIME_NS}comment").text
        assert mt.find(f"{MIME_NS}sub-class-of").get("type") == file_types.RAW_PARENT_TYPE
        declared[mt.get("type")] = [g.get("pattern") for g in mt.findall(f"{MIME_NS}glob")]
    assert declared == {m: [f"*.{e}" for e in exts] for m, exts, _ in file_types.RAW_TYPES}


@pytest.mark.skipif(not shutil.which("update-mime-database"), reason="shared-mime-info not installed")
def test_mime_xml_compiles(tmp_path):
    mime = tmp_path / "mime"
    (mime / "packages").mkdir(parents=True)
    shutil.copy(DEB / "photorestore.xml", mime / "packages")
    env = {**os.environ, "XDG_DATA_DIRS": str(tmp_path)}  # else it warns that the folder is not searched
    res = subprocess.run(["update-mime-database", str(mime)], capture_output=True, text=True, env=env)
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr
    globs = (mime / "globs2").read_text()
    assert "image/x-canon-cr3:*.cr3" in globs and "image/x-leica-rwl:*.rwl" in globs


def test_file_types_are_ones_the_app_opens(file_types):
    from app.core.io.formats import RAW_EXTENSIONS, SUPPORTED_EXTENSIONS

    ours = {f".{e}" for _, exts, _ in file_types.FILE_TYPES for e in exts}
    assert ours <= SUPPORTED_EXTENSIONS, ours - SUPPORTED_EXTENSIONS
    raw = {f".{e}" for _, exts, _ in file_types.RAW_TYPES for e in exts}
    assert raw <= RAW_EXTENSIONS
    if FREEDESKTOP_XML.exists():  # every RAW extension the system has an image/ type for is associated
        known = set()
        for mt in ET.parse(FREEDESKTOP_XML).getroot().findall(f"{MIME_NS}mime-type"):
            if mt.get("type").startswith("image/"):
                known |= {g.get("pattern").lower()[1:] for g in mt.findall(f"{MIME_NS}glob")}
        assert not (RAW_EXTENSIONS & known) - raw, (RAW_EXTENSIONS & known) - raw


def test_deb_control_template_and_launcher():
    control = (DEB / "control.in").read_text(encoding="utf-8")
    placeholders = set(re.findall(r"@[A-Z_]+@", control))
    build = (REPO / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert placeholders == {
        "@PACKAGE@",
        "@VERSION@",
        "@ARCH@",
        "@INSTALLED_SIZE@",
        "@DEPENDS@",
        "@RECOMMENDS@",
        "@CONFLICTS@",
        "@EDITION_NOTE@",
    }
    assert all(p in build for p in placeholders), "build.sh fills every placeholder"
    fields = [
        line.split(":", 1)[0] for line in control.splitlines() if line and not line.startswith((" ", "@"))
    ]
    assert {"Package", "Version", "Architecture", "Maintainer", "Depends", "Description"} <= set(fields)
    launcher = (DEB / "photorestore.sh").read_text(encoding="utf-8")
    assert launcher.startswith("#!/bin/sh\n")
    assert "/opt/photorestore/photorestore" in launcher and 'exec "$here/../../opt' in launcher
    if shutil.which("sh"):
        assert subprocess.run(["sh", "-n", str(DEB / "photorestore.sh")]).returncode == 0


def test_deb_depends_finds_sonames(tmp_path):
    deb_depends = load_packaging_module("deb_depends")
    libc = deb_depends.system_libraries().get("libc.so.6")
    if not libc or not shutil.which("readelf"):
        pytest.skip("no ldconfig/readelf here")
    assert deb_depends.soname(Path(libc)) == "libc.so.6"
    needed, glibc = deb_depends.needed_and_glibc(Path(shutil.which("ls")).resolve())
    assert "libc.so.6" in needed and glibc


@pytest.mark.parametrize("script", ["packaging/build.sh", "packaging/smoke_test.sh", ".ci/packaging_check"])
def test_shell_scripts_are_strict_and_parse(script):
    path = REPO / script
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_inno_setup_script_associates_every_file_type(file_types):
    iss = (REPO / "packaging" / "windows" / "photorestore.iss").read_text(encoding="utf-8")
    assert "AppVersion={#AppVersion}" in iss and re.search(r"AppId=\{\{[0-9A-F-]{36}\}", iss)
    exts = {e for _, es, _ in file_types.FILE_TYPES for e in es}
    listed = set(re.findall(r"Software\\Classes\\\.([a-z0-9]+)\\OpenWithProgids", iss))
    assert listed == exts
    assert "{app}\\photorestore.exe" in iss


def test_spec_builds_a_console_cli_on_windows():
    spec = (REPO / "packaging" / "photorestore.spec").read_text(encoding="utf-8")
    assert 'executable(f"{name}-cli", console=True)' in spec


def test_make_icons_writes_every_format(tmp_path):
    from PIL import Image

    make_icons = load_packaging_module("make_icons")
    written = make_icons.make_icons(tmp_path, None, master_size=512)  # the placeholder: no app icon needed
    assert {p.name for p in written} >= {"photorestore.png", "photorestore.ico", "photorestore.icns"}
    for n in make_icons.PNG_SIZES:
        with Image.open(tmp_path / "hicolor" / f"{n}x{n}" / "apps" / "photorestore.png") as im:
            assert im.size == (n, n) and im.mode == "RGBA"
    with Image.open(tmp_path / "photorestore.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(tmp_path / "photorestore.icns") as icns:
        assert icns.size[0] >= 256


def test_make_icons_uses_the_app_icon():
    make_icons = load_packaging_module("make_icons")
    source = make_icons.find_source()
    gui_icons = list((REPO / "resources" / "icons").glob("photorestore.*"))
    if gui_icons:
        assert source is not None and source.stem == "photorestore"
