"""Work out the .deb's Depends/Recommends from the libraries the frozen bundle links against.

    python3 packaging/deb_depends.py packaging/dist/photorestore   # prints two control lines

PyInstaller bundles Python, torch, Qt, OpenCV ... but leaves the system's graphics stack out on
purpose (libGL/libEGL, fontconfig, X11/xcb, glib, dbus: the app must use the user's own). Those
libraries must then come from Debian packages. This does what dpkg-shlibdeps does, without a
debian/ source tree: every ELF file's DT_NEEDED that no file in the bundle provides is looked up with
``ldconfig -p`` and ``dpkg -S`` on the build machine. Libraries needed only by optional Qt plugins
(Wayland, the GTK theme) go to Recommends: Qt skips a plugin whose libraries are missing, but aborts
when the xcb platform plugin cannot load, so its libraries are Depends. ``libc6 (>= X)`` comes from
the newest GLIBC symbol version the bundle references.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import re
import subprocess
import sys
from pathlib import Path

#: Bundle files whose missing libraries only disable an optional feature.
OPTIONAL_FILES = [
    "*/PySide6/Qt/plugins/platforms/libqwayland*",
    "*/PySide6/Qt/plugins/wayland-*/*",
    "*/PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "*/PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
    "*/PySide6/Qt/lib/libQt6Wayland*",
    "*/PySide6/Qt/lib/libQt6WlShellIntegration*",
    "*/PySide6/Qt/plugins/platforminputcontexts/*",
    "*/PySide6/Qt/plugins/xcbglintegrations/*",
    "*/PySide6/Qt/plugins/iconengines/*",
    "*/PySide6/Qt/plugins/imageformats/*",
]

#: Sonames that may not be installed on the build machine (only optional plugins need them) -> package.
FALLBACK_PACKAGES = {
    "libgtk-3.so.0": "libgtk-3-0",
    "libgdk-3.so.0": "libgtk-3-0",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libcairo.so.2": "libcairo2",
    "libgdk_pixbuf-2.0.so.0": "libgdk-pixbuf-2.0-0",
    "libatk-1.0.so.0": "libatk1.0-0",
    "libcairo-gobject.so.2": "libcairo-gobject2",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}

#: Provided by libc6 (also ld-linux); version from the GLIBC symbol scan instead.
LIBC_SONAMES = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|libresolv|libanl|ld-linux.*)\.so")


def elf_files(bundle: Path) -> list[Path]:
    out = []
    for p in bundle.rglob("*"):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def soname(path: Path) -> str | None:
    """DT_SONAME: what other files' DT_NEEDED call this library (pyexiv2's libexiv2.so is libexiv2.so.28)."""
    dyn = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dyn)
    return m.group(1) if m else None


def needed_and_glibc(path: Path) -> tuple[list[str], str | None]:
    """DT_NEEDED entries and the newest GLIBC_x.y version referenced (readelf, fast on big libs)."""
    dyn = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ver = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True).stdout
    versions = re.findall(r"Name: GLIBC_([0-9.]+)", ver)
    newest = max(versions, key=lambda v: tuple(int(x) for x in v.split("."))) if versions else None
    return needed, newest


@functools.cache
def system_libraries() -> dict[str, str]:
    """soname -> path of the 64-bit libraries the dynamic linker knows (``ldconfig -p``)."""
    libs: dict[str, str] = {}
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "64" in m.group(2):
            libs.setdefault(m.group(1), m.group(3))
    return libs


def owning_package(path: str) -> str | None:
    real = str(Path(path).resolve())
    for candidate in dict.fromkeys(
        [path, real, real.replace("/usr/lib/", "/lib/"), real.replace("/lib/", "/usr/lib/", 1)]
    ):
        res = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if res.returncode == 0 and res.stdout:
            return res.stdout.split(":", 1)[0].strip()
    return None


def compute(bundle: Path) -> tuple[list[str], list[str], list[str]]:
    """(depends, recommends, problems)."""
    files = elf_files(bundle)
    provided = {p.name for p in bundle.rglob("*") if ".so" in p.name} | {soname(f) for f in files} - {None}
    required: set[str] = set()
    optional: set[str] = set()
    glibc = "2.17"
    for f in files:
        needed, newest = needed_and_glibc(f)
        if newest and tuple(map(int, newest.split("."))) > tuple(map(int, glibc.split("."))):
            glibc = newest
        is_optional = any(fnmatch.fnmatchcase(str(f), pat) for pat in OPTIONAL_FILES)
        for lib in needed:
            if lib in provided or LIBC_SONAMES.match(lib):
                continue
            (optional if is_optional else required).add(lib)
    optional -= required
    depends, recommends, problems = {f"libc6 (>= {glibc})"}, set(), []
    for group, target in ((required, depends), (optional, recommends)):
        for lib in sorted(group):
            path = system_libraries().get(lib)
            pkg = owning_package(path) if path else None
            pkg = pkg or FALLBACK_PACKAGES.get(lib)
            if pkg:
                target.add(pkg.split(":")[0])  # drop ":amd64"
            elif target is depends:
                problems.append(f"{lib}: needed by the bundle, found in no installed package")
    recommends -= depends
    return sorted(depends), sorted(recommends), problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path, help="the onedir folder (packaging/dist/photorestore)")
    args = p.parse_args(argv)
    depends, recommends, problems = compute(args.bundle)
    for problem in problems:
        print(f"deb_depends: {problem}", file=sys.stderr)
    print("Depends: " + ", ".join(depends))
    print("Recommends: " + ", ".join(recommends))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
