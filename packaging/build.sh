#!/usr/bin/env bash
# Build PhotoRestore's Linux installers from a clean checkout.
#
#   packaging/build.sh [--clean] [--gpu] [--no-strip] [--no-deb] [--no-tar]
#
# Steps (each one says how long it took):
#   1. packaging/build/venv: a fresh virtual environment with torch (CPU build), the package and
#      PyInstaller at the versions in packaging/constraints.txt. Reused while constraints.txt,
#      pyproject.toml, the Python version and the edition are unchanged (--clean starts over).
#   2. icons from resources/icons (packaging/make_icons.py) -> packaging/build/icons
#   3. PyInstaller onedir build (packaging/photorestore.spec)  -> packaging/dist/photorestore/
#   4. strip --strip-unneeded on the bundle's shared libraries (torch's are shipped with symbols)
#   5. packaging/dist/photorestore-<version>-linux-<arch>.tar.gz
#   6. packaging/dist/photorestore_<version>_<arch>.deb (files in /opt/photorestore, /usr/bin launcher,
#      .desktop entry, icons, MIME types)
# then writes packaging/dist/build-summary.txt (sizes, durations). packaging/smoke_test.sh tests it.
#
# Environment:
#   PYTHON           interpreter for the venv (default python3; 3.10+)
#   TORCH_VERSION    default 2.13.0
#   TORCH_INDEX_URL  where torch comes from when PyPI's default build is not the one wanted: on a
#                    machine without a local CPU wheel, https://download.pytorch.org/whl/cpu (CPU
#                    edition) or .../whl/cu128 (with --gpu). PyPI's Linux torch is the CUDA build.
#   DEB_COMPRESSION  zstd (default; level 9: ~1-2 min, 250 MB), xz (level 6: 206 MB but ~20 min on 2
#                    shared cores; for releases), gzip. zstd .debs need dpkg >= 1.21.18 (Debian 12,
#                    Ubuntu 21.10), which the bundle's glibc >= 2.35 requires anyway.
#   DEB_LEVEL        compression level (default 9 for zstd, 6 for xz and gzip)
#   NICE             niceness of the heavy steps (default 10: the build machine is shared)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$here/build"
dist="$here/dist"
venv="$build/venv"

clean=0 gpu=0 do_strip=1 do_deb=1 do_tar=1
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    --gpu) gpu=1 ;;
    --no-strip) do_strip=0 ;;
    --no-deb) do_deb=0 ;;
    --no-tar) do_tar=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
    *) echo "build.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
DEB_COMPRESSION=${DEB_COMPRESSION:-zstd}
if [ "$DEB_COMPRESSION" = zstd ]; then DEB_LEVEL=${DEB_LEVEL:-9}; else DEB_LEVEL=${DEB_LEVEL:-6}; fi
NICE=${NICE:-10}
edition=cpu pkg=photorestore
if [ "$gpu" = 1 ]; then edition=gpu pkg=photorestore-gpu; fi

t_start=$SECONDS
step_start=$SECONDS
declare -a durations=()
step() {  # step "name": closes the previous step's timer and announces the next
  if [ -n "${step_name:-}" ]; then durations+=("$step_name: $((SECONDS - step_start)) s"); fi
  step_name=$1 step_start=$SECONDS
  printf '\n== %s\n' "$1"
}
mb() { echo $(( ($1 + 500000) / 1000000 )); }  # bytes -> MB (10^6, what installers report)

[ "$clean" = 1 ] && rm -rf "$build" "$dist"
mkdir -p "$build" "$dist"
cd "$root"

# ---- 1. virtual environment -------------------------------------------------------------------
step "virtual environment ($venv)"
stamp=$( { cat "$here/constraints.txt" pyproject.toml; "$PYTHON" -VV; echo "torch=$TORCH_VERSION edition=$edition index=${TORCH_INDEX_URL:-}"; } | sha256sum | cut -c1-16)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.photorestore-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "reusing it (constraints, pyproject.toml and Python unchanged)"
else
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  index_args=()
  if [ -n "${TORCH_INDEX_URL:-}" ]; then index_args=(--extra-index-url "$TORCH_INDEX_URL"); fi
  # setuptools builds the package in-tree (build/ at the repository root): remove it afterwards if
  # this step made it.
  had_root_build=0
  if [ -e "$root/build" ]; then had_root_build=1; fi
  # One resolver run for torch, the app (non-editable: what users get) and the build tools.
  # scipy: app.core.metrics imports it (SSIM, NIQE, analysis) but pyproject.toml does not list it yet.
  if ! { "$venv/bin/python" -m pip install --upgrade pip &&
         "$venv/bin/python" -m pip install -c "$here/constraints.txt" "${index_args[@]}" \
           "torch==$TORCH_VERSION" "$root" scipy pyinstaller pyinstaller-hooks-contrib; } > "$build/pip.log" 2>&1; then
    tail -n 30 "$build/pip.log"
    echo "build.sh: pip failed (full log: $build/pip.log)" >&2
    exit 1
  fi
  if [ "$had_root_build" = 0 ]; then rm -rf "$root/build"; fi
  echo "$stamp" > "$venv/.photorestore-stamp"
fi
# The CPU edition must not silently become a 4 GB CUDA one (PyPI's default Linux torch is CUDA).
"$venv/bin/python" - "$edition" <<'EOF'
import sys
import torch
cuda = torch.version.cuda
print(f"torch {torch.__version__} (CUDA {cuda or 'none'})")
if (sys.argv[1] == "cpu") != (cuda is None):
    sys.exit(f"build.sh: the {sys.argv[1]} edition needs a {'CPU' if sys.argv[1] == 'cpu' else 'CUDA'} torch; "
             "set TORCH_INDEX_URL (see --help)")
EOF
version=$("$venv/bin/python" -c "import sys; sys.path.insert(0, '$here'); import bundle_rules; print(bundle_rules.app_version())")
arch=$(uname -m)
echo "photorestore $version, $edition edition, $arch"

# ---- 2. icons ---------------------------------------------------------------------------------
step "icons"
QT_QPA_PLATFORM=offscreen "$venv/bin/python" "$here/make_icons.py" --out "$build/icons"

# ---- 3. PyInstaller ---------------------------------------------------------------------------
step "PyInstaller (log: packaging/build/pyinstaller.log)"
spec_args=(--icons "$build/icons")
if [ "$gpu" = 1 ]; then spec_args+=(--gpu); fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
if ! nice -n "$NICE" "$venv/bin/python" -m PyInstaller --noconfirm --log-level WARN \
      --distpath "$dist" --workpath "$build/pyinstaller" "$here/photorestore.spec" -- "${spec_args[@]}" \
      > "$build/pyinstaller.log" 2>&1; then
  tail -n 40 "$build/pyinstaller.log"
  echo "build.sh: PyInstaller failed (full log: $build/pyinstaller.log)" >&2
  exit 1
fi
# Its warnings, without the torch submodule-import chatter.
grep -E "WARNING|ERROR|photorestore.spec" "$build/pyinstaller.log" | grep -v -E "DeprecationWarning|FutureWarning" | tail -n 20 || true
app="$dist/photorestore"
unstripped=$(du -sb "$app" | cut -f1)

# ---- 4. strip ---------------------------------------------------------------------------------
if [ "$do_strip" = 1 ]; then
  step "strip --strip-unneeded torch's libraries"
  # torch's wheel ships libtorch_cpu.so & co. with their symbol tables (~90 MB). Only those: the
  # other wheels are stripped already, and strip corrupts libraries that auditwheel rewrote with
  # patchelf (numpy.libs/libscipy_openblas: "ELF load command address/offset not page-aligned").
  find "$app/_internal/torch/lib" "$app/_internal/torch" -maxdepth 1 -type f \
      \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libshm*.so*' -o -name '_C*.so' \) -print0 |
    nice -n "$NICE" xargs -0 -r strip --strip-unneeded
  echo "$(mb "$unstripped") MB -> $(mb "$(du -sb "$app" | cut -f1)") MB"
fi
onedir_bytes=$(du -sb "$app" | cut -f1)
got=$("$app/photorestore" --version)
if [ "$got" != "photorestore $version" ]; then
  echo "build.sh: the frozen app says '$got', expected 'photorestore $version'" >&2
  exit 1
fi

# ---- 5. tar.gz --------------------------------------------------------------------------------
tarball="" deb=""
# Reproducible archives: sorted names, fixed owner and time, no gzip timestamp.
tar_flags=(--sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner)
if [ "$do_tar" = 1 ]; then
  step "tar.gz"
  tarball="$dist/$pkg-$version-linux-$arch.tar.gz"
  gz=(gzip -n -6)
  if command -v pigz >/dev/null; then gz=(pigz -n -6); fi  # same format, all cores
  tar "${tar_flags[@]}" --transform "s,^photorestore,$pkg-$version," -C "$dist" -cf - photorestore |
    nice -n "$NICE" "${gz[@]}" > "$tarball"
  echo "$(basename "$tarball"): $(mb "$(stat -c %s "$tarball")") MB"
fi

# ---- 6. .deb ----------------------------------------------------------------------------------
if [ "$do_deb" = 1 ]; then
  step ".deb"
  debarch=$(dpkg --print-architecture)
  stage="$build/deb/$pkg"
  rm -rf "$build/deb"
  mkdir -p "$stage/DEBIAN" "$stage/opt"
  cp -al "$app" "$stage/opt/photorestore"  # hard links: no second copy of 700 MB
  install -Dm755 "$here/deb/photorestore.sh" "$stage/usr/bin/photorestore"
  install -Dm644 "$here/deb/photorestore.desktop" "$stage/usr/share/applications/photorestore.desktop"
  install -Dm644 "$here/deb/photorestore.xml" "$stage/usr/share/mime/packages/photorestore.xml"
  install -Dm644 "$here/deb/copyright" "$stage/usr/share/doc/$pkg/copyright"
  for png in "$build"/icons/hicolor/*/apps/photorestore.png; do
    rel=${png#"$build/icons/"}
    install -Dm644 "$png" "$stage/usr/share/icons/$rel"
  done
  # No postinst: dpkg triggers of desktop-file-utils, shared-mime-info and hicolor-icon-theme refresh
  # the .desktop, MIME and icon caches when files land in those folders.
  deps=$("$venv/bin/python" "$here/deb_depends.py" "$app")
  depends=$(sed -n 's/^Depends: //p' <<<"$deps")
  recommends=$(sed -n 's/^Recommends: //p' <<<"$deps")
  if [ "$gpu" = 1 ]; then
    conflicts="Conflicts: photorestore"$'\n'"Replaces: photorestore"$'\n'"Provides: photorestore"
    edition_note="This build runs on NVIDIA GPUs (CUDA) and on the CPU."
  else
    conflicts="Conflicts: photorestore-gpu"$'\n'"Replaces: photorestore-gpu"
    edition_note="This build runs on the CPU."
  fi
  installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  VERSION=$version ARCH=$debarch SIZE=$installed_kb DEPENDS=$depends RECOMMENDS=$recommends \
  CONFLICTS=$conflicts EDITION=$edition_note PKG=$pkg "$venv/bin/python" - "$here/deb/control.in" \
    "$stage/DEBIAN/control" <<'EOF'
import os, sys
text = open(sys.argv[1], encoding="utf-8").read()
for key, env in (("@PACKAGE@", "PKG"), ("@VERSION@", "VERSION"), ("@ARCH@", "ARCH"), ("@INSTALLED_SIZE@", "SIZE"),
                 ("@DEPENDS@", "DEPENDS"), ("@RECOMMENDS@", "RECOMMENDS"), ("@CONFLICTS@", "CONFLICTS"),
                 ("@EDITION_NOTE@", "EDITION")):
    text = text.replace(key, os.environ[env])
open(sys.argv[2], "w", encoding="utf-8").write(text)
EOF
  (cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
  chmod -R u=rwX,go=rX "$stage"
  deb="$dist/${pkg}_${version}_${debarch}.deb"
  nice -n "$NICE" dpkg-deb --root-owner-group -Z"$DEB_COMPRESSION" -z"$DEB_LEVEL" --build "$stage" "$deb" >/dev/null
  echo "$(basename "$deb"): $(mb "$(stat -c %s "$deb")") MB"
  sed -n '/^Depends/p;/^Recommends/p' "$stage/DEBIAN/control"
fi
step "done"

# ---- summary ----------------------------------------------------------------------------------
{
  echo "photorestore $version ($edition edition, $arch), built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "torch: $("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
  echo "onedir: $(mb "$onedir_bytes") MB ($app; $(mb "$unstripped") MB before strip)"
  [ -n "$tarball" ] && echo "tar.gz: $(mb "$(stat -c %s "$tarball")") MB ($(basename "$tarball"))"
  [ -n "$deb" ] && echo "deb: $(mb "$(stat -c %s "$deb")") MB ($(basename "$deb"), $DEB_COMPRESSION -$DEB_LEVEL)"
  echo "build time: $((SECONDS - t_start)) s (${durations[*]/%/;})"
} | tee "$dist/build-summary.txt"
