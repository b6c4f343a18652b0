#!/usr/bin/env bash
# Smoke-test what packaging/build.sh made, the way a user gets it:
#   1. the onedir app: --version, every bundled library resolvable, --selftest (decode -> every
#      available op -> export, then the main window opened offscreen and closed)
#   2. the .deb: control fields, file list, .desktop and MIME files valid; unpacked into a scratch
#      root (dpkg -x, no root rights or system changes needed) and /usr/bin/photorestore run from
#      there: --version, `models`, --selftest
#   3. the .tar.gz: unpacked, --version
#   4. start-up time to a visible window: the .deb's launcher opening the GUI under Xvfb, timed from
#      exec until the main window is mapped (xdotool), --runs times; without Xvfb/xdotool it reports
#      the selftest's own offscreen figure instead
# Results go to stdout and packaging/dist/smoke-summary.txt.
#
#   packaging/smoke_test.sh [--runs N] [--skip-deb] [--skip-tar] [--keep]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist="$here/dist"
app="$dist/photorestore"
runs=3 skip_deb=0 skip_tar=0 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift ;;
    --skip-deb) skip_deb=1 ;;
    --skip-tar) skip_tar=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; /^set -euo/d'; exit 0 ;;
    *) echo "smoke_test.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

[ -x "$app/photorestore" ] || { echo "smoke_test.sh: no $app/photorestore; run packaging/build.sh first" >&2; exit 2; }
version=$(python3 -c "import sys; sys.path.insert(0, '$here'); import bundle_rules; print(bundle_rules.app_version())")

scratch=$(mktemp -d "${TMPDIR:-/tmp}/photorestore-smoke.XXXXXX")
xvfb_pid=""
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "kept $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

summary="$dist/smoke-summary.txt"
: > "$summary"
passed=0
t_start=$SECONDS
note() { echo "$*" | tee -a "$summary"; }
ok() { passed=$((passed + 1)); note "ok   $*"; }
fail() { note "FAIL $*"; exit 1; }
# The frozen app must not lean on anything from this checkout or a developer's environment.
run_clean() { env -u PYTHONPATH -u PHOTORESTORE_RESOURCES -u PHOTORESTORE_MODELS_DIR -u LD_LIBRARY_PATH "$@"; }

# Every ELF file in a bundle resolves its libraries (bundle first, as the bootloader arranges, then
# the system). Optional Qt plugins whose libraries this machine lacks only lose that feature (Wayland,
# GTK theme). libexiv2.so.28 is pyexiv2/lib/libexiv2.so, which pyexiv2 loads by path before its module.
check_libraries() {
  local bundle=$1 missing
  missing=$(find "$bundle/_internal" -type f \( -name '*.so' -o -name '*.so.*' \) \
      ! -path '*/plugins/platformthemes/*' ! -path '*/plugins/platforms/libqwayland*' \
      ! -path '*/plugins/wayland-*' ! -path '*/libQt6Wayland*' ! -path '*/libQt6WlShellIntegration*' \
      ! -path '*/plugins/platforminputcontexts/*' -print0 |
    LD_LIBRARY_PATH="$bundle/_internal" xargs -0 -n 32 ldd 2>/dev/null |
    awk '/^\// {file=$1} /not found/ && $1 != "libexiv2.so.28" {print file " needs " $1}' | sort -u)
  [ -z "$missing" ] || fail "unresolved libraries in $bundle:"$'\n'"$missing"
}

export QT_QPA_PLATFORM=offscreen  # --selftest; the start-up timing below uses a real X server

# ---- 1. onedir ----------------------------------------------------------------------------------
note "== onedir $app ($(du -sh "$app" | cut -f1))"
got=$(run_clean "$app/photorestore" --version)
[ "$got" = "photorestore $version" ] || fail "--version says '$got', expected 'photorestore $version'"
ok "--version: $got"
check_libraries "$app"
ok "every bundled library resolves"
dangling=$(find "$app" -xtype l)
[ -z "$dangling" ] || fail "dangling symlinks: $dangling"
if ! out=$(cd "$scratch" && run_clean "$app/photorestore" --selftest 2>&1); then
  echo "$out"
  fail "frozen --selftest"
fi
note "$(sed 's/^/     /' <<<"$out")"
ok "frozen --selftest"
# The metrics (scipy, NIQE's fitted parameters shipped inside app/) are not in the selftest's path.
sample="$app/_internal/resources/samples/sample.jpg"
if [ -f "$sample" ]; then
  out=$(cd "$scratch" && run_clean "$app/photorestore" analyze "$sample" 2>&1) || { echo "$out"; fail "frozen analyze"; }
  out=$(cd "$scratch" && run_clean "$app/photorestore" compare "$sample" "$sample" 2>&1) || { echo "$out"; fail "frozen compare"; }
  grep -Eq "^NIQE +.*[0-9]\.[0-9]{2}" <<<"$out" || fail "frozen compare gives no NIQE: $out"
  ok "frozen analyze and compare (scipy, NIQE parameters)"
fi
# A real camera RAW through rawpy/LibRaw and pyexiv2 inside the bundle, when the shared datasets are
# beside the checkout (CI has them): the smallest DNG or CR2 there, to a 16-bit TIFF.
raw=$(ls -S "$here"/../../shared/datasets/raw/bayer/*.{dng,DNG,CR2,cr2} 2>/dev/null | tail -n 1 || true)
if [ -n "$raw" ]; then
  out=$(cd "$scratch" && run_clean "$app/photorestore" run "$raw" -o "$scratch/raw-out" --format tiff16 2>&1) ||
    { echo "$out"; fail "frozen run on $(basename "$raw")"; }
  [ -s "$(ls "$scratch"/raw-out/*.tif 2>/dev/null | head -n 1)" ] || fail "frozen run wrote no TIFF: $out"
  ok "frozen run: $(basename "$raw") -> 16-bit TIFF"
fi

# ---- 2. .deb ------------------------------------------------------------------------------------
if [ "$skip_deb" = 0 ]; then
  deb=$(ls "$dist"/photorestore*_"$version"_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || fail "no .deb for $version in $dist"
  note "== deb $(basename "$deb") ($(du -h "$deb" | cut -f1))"
  info=$(dpkg-deb --field "$deb" Package Version Depends)
  grep -q "^Version: $version$" <<<"$info" || fail ".deb Version field: $info"
  contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
  for path in ./usr/bin/photorestore ./opt/photorestore/photorestore ./usr/share/applications/photorestore.desktop \
              ./usr/share/mime/packages/photorestore.xml ./usr/share/icons/hicolor/256x256/apps/photorestore.png \
              ./usr/share/doc/photorestore/copyright ./opt/photorestore/_internal/resources/; do
    grep -qx -- "$path" <<<"$contents" || grep -q -- "^${path#./}\|^$path" <<<"$contents" || fail ".deb lacks $path"
  done
  ok ".deb metadata and file list"
  root="$scratch/root"
  dpkg -x "$deb" "$root"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$root/usr/share/applications/photorestore.desktop" || fail ".desktop entry invalid"
  fi
  if command -v update-mime-database >/dev/null; then
    mkdir -p "$scratch/mime/packages"
    cp "$root/usr/share/mime/packages/photorestore.xml" "$scratch/mime/packages/"
    errors=$(XDG_DATA_DIRS="$scratch" update-mime-database "$scratch/mime" 2>&1 || true)
    [ -z "$errors" ] || fail "MIME XML: $errors"
    grep -q "image/x-canon-cr3:\*.cr3" "$scratch/mime/globs2" || fail "MIME database lacks *.cr3"
  fi
  ok ".desktop entry and MIME types valid"
  check_libraries "$root/opt/photorestore"
  launcher="$root/usr/bin/photorestore"
  got=$(cd "$scratch" && run_clean "$launcher" --version)
  [ "$got" = "photorestore $version" ] || fail "installed launcher --version says '$got'"
  ok "installed launcher --version"
  if ! out=$(cd "$scratch" && run_clean "$launcher" models 2>&1); then echo "$out"; fail "installed 'photorestore models'"; fi
  note "$(sed 's/^/     /' <<<"$out")"
  ok "installed 'photorestore models'"
  if ! out=$(cd "$scratch" && run_clean "$launcher" --selftest 2>&1); then echo "$out"; fail "installed --selftest"; fi
  note "$(sed 's/^/     /' <<<"$out")"
  ok "installed --selftest"
else
  launcher="$app/photorestore"
fi

# ---- 3. tar.gz ----------------------------------------------------------------------------------
if [ "$skip_tar" = 0 ]; then
  tarball=$(ls "$dist"/photorestore*-"$version"-linux-*.tar.gz 2>/dev/null | head -n 1)
  [ -n "$tarball" ] || fail "no .tar.gz for $version in $dist"
  note "== tar.gz $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
  mkdir -p "$scratch/tar"
  tar -xzf "$tarball" -C "$scratch/tar"
  got=$(run_clean "$scratch"/tar/*/photorestore --version)
  [ "$got" = "photorestore $version" ] || fail "tar.gz app --version says '$got'"
  ok "tar.gz unpacks and runs"
  rm -rf "$scratch/tar"
fi

# ---- 4. start-up time to a visible window ---------------------------------------------------------
note "== start-up time to a visible window ($launcher)"
if command -v Xvfb >/dev/null && command -v xdotool >/dev/null; then
  # -displayfd: Xvfb picks a free display and writes its number, so parallel runs do not collide.
  Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$scratch/display" 2>"$scratch/xvfb.log" &
  xvfb_pid=$!
  for _ in $(seq 100); do [ -s "$scratch/display" ] && break; sleep 0.1; done
  [ -s "$scratch/display" ] || fail "Xvfb did not start: $(cat "$scratch/xvfb.log")"
  display=":$(head -n 1 "$scratch/display")"
  times=()
  for i in $(seq "$runs"); do
    t0=$(date +%s%N)
    # exec all the way down (subshell -> env -> launcher script -> app): $pid is the app itself.
    (cd "$scratch" && DISPLAY=$display QT_QPA_PLATFORM=xcb exec env -u PYTHONPATH -u PHOTORESTORE_RESOURCES \
       -u PHOTORESTORE_MODELS_DIR -u LD_LIBRARY_PATH "$launcher" >"$scratch/gui-$i.log" 2>&1) &
    pid=$!
    shown=""
    for _ in $(seq 1200); do  # up to 60 s
      if DISPLAY=$display xdotool search --onlyvisible --name "PhotoRestore" >/dev/null 2>&1; then
        shown=$(( ($(date +%s%N) - t0) / 1000000 ))
        break
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -n "$shown" ] || fail "run $i: no window within 60 s: $(tail -n 20 "$scratch/gui-$i.log")"
    times+=("$shown")
    note "     run $i: ${shown} ms"
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted")
  ok "start-up to a visible window (Xvfb): first ${times[0]} ms, median ${median} ms of $runs"
else
  note "     Xvfb/xdotool not installed (apt-get install xvfb xdotool): the offscreen figure from --selftest above"
fi

note "smoke_test: all $passed checks passed in $((SECONDS - t_start)) s"
